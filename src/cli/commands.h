// One function per subcommand (one file each). Each returns the process exit status and throws
// Error / UsageError for the caller in main.cc to report.
#pragma once

namespace moeinfer {

int cmd_run(int argc, char** argv);
int cmd_logits(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_chat_template(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_make_model(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_chat(int argc, char** argv);

}  // namespace moeinfer
