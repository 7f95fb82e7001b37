#include "base/gzip_file.h"

#include <zlib.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "base/error.h"

namespace moeinfer {

bool is_gzip_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::string read_file_maybe_gzip(const std::string& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open");
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(path, "", "read failed");
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b) {
    if (raw.size() > max_bytes) throw Error(path, "", "file too large");
    return raw;
  }

  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(path, "", "cannot start gzip decompression");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};
  if (raw.size() >= (uint64_t{1} << 32)) throw Error(path, "", "compressed file too large");
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  std::vector<unsigned char> buf(1 << 20);
  while (true) {
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t produced = buf.size() - zs.avail_out;
    if (out.size() + produced > max_bytes)
      throw Error(path, "", "decompressed size exceeds " + std::to_string(max_bytes) + " bytes");
    out.append(reinterpret_cast<const char*>(buf.data()), produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return out;
      if (inflateReset(&zs) != Z_OK) throw Error(path, "", "cannot continue gzip decompression");
      continue;  // another gzip member follows
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) throw Error(path, "", "truncated gzip data");
    if (rc != Z_OK) throw Error(path, "", std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "inflate failed"));
  }
}

}  // namespace moeinfer
