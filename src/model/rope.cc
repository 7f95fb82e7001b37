#include "model/rope.h"

#include <cmath>

namespace moeinfer {

std::vector<float> rope_inv_freq(const RopeConfig& r) {
  const int64_t half = r.n_rot / 2;
  std::vector<float> out(half);
  for (int64_t i = 0; i < half; ++i) {
    // F32, as the references compute it: 1 / theta^(2i/d)
    const float base = 1.0f / static_cast<float>(std::pow(r.theta, static_cast<double>(2 * i) / r.n_rot));
    float f = base;
    switch (r.scaling) {
      case RopeScaling::kNone: break;
      case RopeScaling::kLinear: f = base / static_cast<float>(r.factor); break;
      case RopeScaling::kLlama3: {
        const double pi = 3.14159265358979323846;
        const double wavelen = 2.0 * pi / base;
        const double low_wavelen = r.original_context / r.low_freq_factor;
        const double high_wavelen = r.original_context / r.high_freq_factor;
        if (wavelen < high_wavelen) {
          f = base;
        } else if (wavelen > low_wavelen) {
          f = base / static_cast<float>(r.factor);
        } else {
          const double smooth = (r.original_context / wavelen - r.low_freq_factor) /
                                (r.high_freq_factor - r.low_freq_factor);
          f = static_cast<float>((1.0 - smooth) * base / r.factor + smooth * base);
        }
        break;
      }
    }
    out[i] = f;
  }
  return out;
}

}  // namespace moeinfer
