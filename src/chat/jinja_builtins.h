// Internal to the Jinja built-ins: helpers shared by the filter files.
#pragma once
#include <string_view>

#include "chat/jinja_interp.h"

namespace moeinfer::jinja {

// Sequence filters (jinja_filters_seq.cc): map, select, sort, unique, join, ...
FilterFn find_seq_filter(std::string_view name);

// Jinja's make_attrgetter: "a.b.0" looks up a, then b, then item 0 with get_item (a miss is
// Undefined; a miss below an Undefined raises). An integer attribute is one item lookup.
Value lookup_path(const Value& item, const Value& attribute);

// Jinja's ignore_case postprocessing of sort / unique / min / max keys: strings lower-cased.
Value ignore_case(const Value& v);

}  // namespace moeinfer::jinja
