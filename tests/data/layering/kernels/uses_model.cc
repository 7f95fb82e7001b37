// Fixture for tests/layering_check.py (never compiled): a kernel that includes a model header, which the
// layering test must report. The other include points down and must pass.
#include "tensor/dtype.h"
#include "model/config.h"
