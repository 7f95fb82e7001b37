// The parsed form of a Jinja template: expression and statement trees, shaped like Jinja's own
// nodes (jinja2/nodes.py) so the evaluator can be checked against Jinja's semantics node by node.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace moeinfer::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  kConst,    // value
  kName,     // name
  kList,     // args: items
  kTuple,    // args: items
  kDict,     // args: key0, value0, key1, value1, ...
  kGetAttr,  // node.name (obj.attr; also obj.0 is kGetItem with a constant)
  kGetItem,  // node[args[0]]
  kSlice,    // args: start, stop, step (each may be null); only as kGetItem's index
  kCall,     // node(args..., kwargs..., *dyn_args, **dyn_kwargs)
  kFilter,   // node | name(args...); node is null inside {% filter %} and {% set x | f %}
  kTest,     // node is [not] name(args...)
  kNot,      // not node
  kNeg,      // -node
  kPos,      // +node
  kBinary,   // args[0] op args[1]
  kConcat,   // args[0] ~ args[1] ~ ...
  kAnd,      // args[0] and args[1]
  kOr,       // args[0] or args[1]
  kCompare,  // args[0] cmp[0] args[1] cmp[1] args[2] ... (chained like Python)
  kCond,     // args[1] if args[0] else args[2] (args[2] null when there is no else)
};

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr {
  ExprKind kind = ExprKind::kConst;
  int line = 0;
  Value value;       // kConst
  std::string name;  // kName, kGetAttr attribute, kFilter / kTest name
  BinOp op = BinOp::kAdd;
  std::vector<CmpOp> cmp;
  ExprPtr node;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args, dyn_kwargs;
  bool negated = false;  // kTest: "is not"
  int depth = 1;         // height of this subtree (the parser bounds it, so evaluation cannot overflow)
};

enum class StmtKind : uint8_t {
  kText,         // text
  kPrint,        // {{ expr }}
  kIf,           // if expr: body else: else_body (elif is an kIf inside else_body)
  kFor,          // for target in expr [if cond] [recursive]: body else: else_body
  kSet,          // set target = expr (target: name, tuple of names, or ns.attr as kGetAttr)
  kSetBlock,     // set target [| filter] body endset
  kMacro,        // macro name(params = defaults) body
  kCallBlock,    // call(params) expr body (expr is the kCall; body becomes `caller`)
  kFilterBlock,  // filter expr body (expr is a kFilter chain whose innermost node is null)
  kWith,         // with targets = values: body
  kBreak,
  kContinue,
  kScope,  // a body rendered in place ({% generation %} of HF's AssistantTracker)
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;  // kText; kMacro name
  ExprPtr expr;
  ExprPtr target;
  ExprPtr cond;  // kFor inline filter
  bool recursive = false;
  Body body, else_body;
  std::vector<std::string> params;  // kMacro, kCallBlock
  bool catch_varargs = false;       // kMacro, kCallBlock: the body uses `varargs` (extra positionals allowed)
  bool catch_kwargs = false;        // ... uses `kwargs` (unknown keyword arguments allowed)
  std::vector<ExprPtr> defaults;    // for the last params.size() - ... parameters, aligned to the end
  std::vector<ExprPtr> targets, values;  // kWith
};

struct Program {
  Body body;
};

}  // namespace moeinfer::jinja
