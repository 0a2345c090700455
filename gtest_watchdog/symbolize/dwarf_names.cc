#include "gtest_watchdog/symbolize/dwarf_names.h"

#include <cxxabi.h>
#include <dwarf.h>

#include <cstdlib>
#include <string>

namespace gtest_watchdog_internal {

std::string Demangle(const char* name) {
  if (name == nullptr) return std::string();
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status == 0 && demangled != nullptr) {
      std::string result(demangled);
      std::free(demangled);
      return result;
    }
    std::free(demangled);
  }
  return std::string(name);
}

std::string LinkageName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name =
      dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (name == nullptr) {
    name = dwarf_formstring(
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  }
  return name == nullptr ? std::string() : Demangle(name);
}

Dwarf_Die DeclarationOf(Dwarf_Die die) {
  for (int hops = 0; hops < kMaxDieDepth; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if (dwarf_formref_die(dwarf_attr(&die, DW_AT_abstract_origin, &attr),
                          &next) == nullptr &&
        dwarf_formref_die(dwarf_attr(&die, DW_AT_specification, &attr),
                          &next) == nullptr) {
      break;
    }
    die = next;
  }
  return die;
}

std::string BaseName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name =
      dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return name == nullptr ? std::string() : std::string(name);
}

}  // namespace gtest_watchdog_internal
