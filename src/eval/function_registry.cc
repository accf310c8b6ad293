#include "eval/function_registry.h"

#include <algorithm>
#include <cctype>

namespace trackhouse::eval {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const FunctionRegistry& FunctionRegistry::Instance() {
  static const FunctionRegistry* registry = [] {
    auto* r = new FunctionRegistry();
    RegisterArithmeticFunctions(r);
    RegisterComparisonFunctions(r);
    RegisterLogicalFunctions(r);
    RegisterConditionalFunctions(r);
    RegisterConversionFunctions(r);
    RegisterDateTimeFunctions(r);
    RegisterStringFunctions(r);
    RegisterJsonFunctions(r);
    RegisterMathFunctions(r);
    RegisterSetFunctions(r);
    return r;
  }();
  return *registry;
}

const FunctionRegistry::Entry* FunctionRegistry::Find(std::string_view name) const {
  auto it = exact_.find(name);
  if (it != exact_.end()) return it->second.get();
  auto lit = lower_.find(Lower(name));
  if (lit != lower_.end()) return lit->second.get();
  return nullptr;
}

std::vector<std::string> FunctionRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : exact_) out.push_back(name);
  return out;
}

void FunctionRegistry::Register(std::string name, FunctionFactory factory, FunctionTraits traits) {
  auto entry = std::make_shared<Entry>(Entry{name, std::move(factory), traits});
  if (traits.case_insensitive) lower_[Lower(name)] = entry;
  exact_[std::move(name)] = std::move(entry);
}

void FunctionRegistry::Alias(std::string alias, std::string_view target, bool case_insensitive) {
  auto it = exact_.find(target);
  if (it == exact_.end()) return;
  auto entry = it->second;
  if (case_insensitive) lower_[Lower(alias)] = entry;
  exact_[std::move(alias)] = std::move(entry);
}

}  // namespace trackhouse::eval
