// File: gtest_watchdog/symbolize/dwarf_names.h
//
// The names of functions, from their DWARF entries and ELF symbols:
// demangling, the linkage name of a DIE, the DIE that declares a function
// (through inlined and out-of-line instances) and its plain name. For
// symbolizer.cc; other code uses Symbolizer (symbolizer.h).
//
// Helper process only: allocates (demangling, strings).
#pragma once

#include <elfutils/libdw.h>

#include <string>

namespace gtest_watchdog_internal {

// Bounds DIE-tree recursion, so corrupt (cyclic) DWARF cannot overflow.
// Helper process only.
inline constexpr int kMaxDieDepth = 64;

// Helper process only. Returns the demangled form of `name`, or `name`
// itself when it is not a mangled C++ name (C functions, "main", ...); ""
// for null.
std::string Demangle(const char* name);

// Helper process only. Demangled DW_AT_linkage_name of a subprogram or
// inlined_subroutine DIE, or "" if there is none. It is preferred because
// it carries the parameter list ("Foo::Bar(int)"). Inlined instances and
// out-of-line copies only point at their declaration via
// DW_AT_abstract_origin / DW_AT_specification, hence dwarf_attr_integrate().
std::string LinkageName(Dwarf_Die* die);

// Helper process only. Follows DW_AT_abstract_origin / DW_AT_specification
// from a concrete or inlined instance to the DIE that declares the
// function, whose parents are the namespaces and classes the function
// belongs to.
Dwarf_Die DeclarationOf(Dwarf_Die die);

// Helper process only. DW_AT_name of a DIE (through abstract origins), e.g.
// "Bar", or "".
std::string BaseName(Dwarf_Die* die);

}  // namespace gtest_watchdog_internal
