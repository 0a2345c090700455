// Copyright 2024 The gtest_watchdog Authors.
//
// Runs only in the report helper process: allocates freely and calls into
// libdw, which is neither async-signal-safe nor thread-safe.

#include "gtest_watchdog/symbolize/symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace gtest_watchdog_internal {
namespace {

// Modules come from /proc/PID/maps; separate debug info is searched in the
// default local path (next to the file, /usr/lib/debug, build-id links).
const Dwfl_Callbacks kProcCallbacks = {
    dwfl_linux_proc_find_elf,      // find_elf
    dwfl_standard_find_debuginfo,  // find_debuginfo
    nullptr,                       // section_address: only for ET_REL files
    nullptr,                       // debuginfo_path: null means the default
};

// Returns the demangled form of `name`, or `name` itself when it is not a
// mangled C++ name (C functions, "main", ...).
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

// Demangled DW_AT_linkage_name of a subprogram or inlined_subroutine DIE, or
// "" if there is none. It is preferred because it carries the parameter list
// ("Foo::Bar(int)"). Inlined instances and out-of-line copies only point at
// their declaration via DW_AT_abstract_origin / DW_AT_specification, hence
// dwarf_attr_integrate().
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

// Follows DW_AT_abstract_origin / DW_AT_specification from a concrete or
// inlined instance to the DIE that declares the function, whose parents are
// the namespaces and classes the function belongs to.
Dwarf_Die DeclarationOf(Dwarf_Die die) {
  // Bounded so that corrupt self-referencing DWARF cannot loop forever.
  for (int hops = 0; hops < 16; ++hops) {
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

// DW_AT_name of the function, e.g. "Bar" for ns::Foo::Bar(int), or "".
std::string BaseName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name =
      dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return name == nullptr ? std::string() : std::string(name);
}

// "ns::Foo::Bar", built from the declaration's enclosing scopes. Used when
// there is no linkage name: C functions (where it is just "bar") and, with
// GCC, C++ functions with internal linkage (static, anonymous namespace).
// Parameter types are not reconstructed.
std::string QualifiedName(Dwarf_Die* die) {
  Dwarf_Die decl = DeclarationOf(*die);
  std::string name = BaseName(&decl);
  if (name.empty()) return name;
  Dwarf_Die* scopes = nullptr;
  const int nscopes = dwarf_getscopes_die(&decl, &scopes);
  // scopes[0] is `decl` itself; the rest are its parents, innermost first.
  for (int i = 1; i < nscopes; ++i) {
    const char* scope_name = dwarf_diename(&scopes[i]);
    switch (dwarf_tag(&scopes[i])) {
      case DW_TAG_namespace:
        name.insert(
            0, std::string(scope_name != nullptr ? scope_name
                                                 : "(anonymous namespace)") +
                   "::");
        break;
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        name.insert(0, std::string(scope_name != nullptr ? scope_name
                                                         : "{unnamed type}") +
                           "::");
        break;
      default:
        break;
    }
  }
  std::free(scopes);
  return name;
}

// Fills `frame` with the call site recorded on an inlined_subroutine DIE: the
// location in the caller where the inlined function was "called".
void SetCallSite(Dwarf_Die* inlined, SourceFrame* frame) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &value) ==
      0) {
    // DW_AT_call_file indexes the file table of the DIE's own unit.
    Dwarf_Die cu;
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    const char* file = nullptr;
    if (dwarf_diecu(inlined, &cu, nullptr, nullptr) != nullptr &&
        dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && value < nfiles) {
      file = dwarf_filesrc(files, value, nullptr, nullptr);
    }
    if (file != nullptr) frame->file = file;
  }
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &value) ==
      0) {
    frame->line = static_cast<int>(value);
  }
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_column, &attr), &value) ==
      0) {
    frame->column = static_cast<int>(value);
  }
}

// Returns the compile unit covering `pc` and sets `*bias` to what must be
// subtracted from `pc` to get a DWARF address; nullptr if there is none.
Dwarf_Die* FindCompileUnit(Dwfl_Module* module, uint64_t pc, Dwarf_Addr* bias) {
  Dwarf_Die* cu = dwfl_module_addrdie(module, pc, bias);
  if (cu != nullptr && dwarf_haspc(cu, pc - *bias) > 0) return cu;
  // libdwfl looks CUs up through .debug_aranges only. Clang emits none, and
  // in a binary mixing compilers libdwfl then hands back a neighbouring CU
  // that does not contain `pc`. So verify, and fall back to asking every CU.
  for (cu = dwfl_module_nextcu(module, nullptr, bias); cu != nullptr;
       cu = dwfl_module_nextcu(module, cu, bias)) {
    if (dwarf_haspc(cu, pc - *bias) > 0) return cu;
  }
  return nullptr;
}

// Fills `frame` with the line-table row of `cu` covering DWARF address
// `addr`. (dwfl_module_getsrc() would repeat the aranges-only CU lookup.)
void SetLineAt(Dwarf_Die* cu, Dwarf_Addr addr, SourceFrame* frame) {
  Dwarf_Line* line = dwarf_getsrc_die(cu, addr);
  if (line == nullptr) return;
  const char* file = dwarf_linesrc(line, nullptr, nullptr);
  if (file == nullptr) return;
  int lineno = 0;
  int column = 0;
  dwarf_lineno(line, &lineno);
  dwarf_linecol(line, &column);
  frame->file = file;
  frame->line = lineno;
  frame->column = column;
}

// Extracts the inline call chain from a physical DIE nesting given innermost
// first: the DW_TAG_inlined_subroutine DIEs up to and including the first
// DW_TAG_subprogram. Empty if there is no subprogram.
std::vector<Dwarf_Die> ChainFromNesting(const Dwarf_Die* nesting, size_t n) {
  std::vector<Dwarf_Die> chain;
  for (size_t i = 0; i < n; ++i) {
    Dwarf_Die die = nesting[i];
    const int tag = dwarf_tag(&die);
    if (tag == DW_TAG_inlined_subroutine) {
      chain.push_back(die);
    } else if (tag == DW_TAG_subprogram) {
      chain.push_back(die);
      return chain;
    }
  }
  return {};
}

// Appends to `path` (outermost first) the code scopes below `parent` that
// contain `addr`. Unlike dwarf_getscopes(), looks inside namespaces, classes
// and imported units, which have no addresses but can own function
// definitions. Returns whether any scope was found.
bool FindCodeScopes(Dwarf_Die* parent, Dwarf_Addr addr, int depth,
                    std::vector<Dwarf_Die>* path) {
  // Bounds recursion on corrupt (cyclic) DWARF.
  constexpr int kMaxDepth = 64;
  Dwarf_Die child;
  if (depth > kMaxDepth || dwarf_child(parent, &child) != 0) return false;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
      case DW_TAG_module:
        if (FindCodeScopes(&child, addr, depth + 1, path)) return true;
        break;
      case DW_TAG_imported_unit: {
        Dwarf_Attribute attr;
        Dwarf_Die unit;
        if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &attr), &unit) !=
                nullptr &&
            FindCodeScopes(&unit, addr, depth + 1, path)) {
          return true;
        }
        break;
      }
      case DW_TAG_subprogram:
      case DW_TAG_inlined_subroutine:
      case DW_TAG_entry_point:
      case DW_TAG_lexical_block:
      case DW_TAG_try_block:
      case DW_TAG_catch_block:
      case DW_TAG_with_stmt:
        if (dwarf_haspc(&child, addr) > 0) {
          path->push_back(child);
          FindCodeScopes(&child, addr, depth + 1, path);
          return true;
        }
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

// The chain of function DIEs containing DWARF address `addr` in `cu`,
// innermost first: zero or more DW_TAG_inlined_subroutine followed by the
// enclosing DW_TAG_subprogram. Empty if no function covers `addr`.
std::vector<Dwarf_Die> FunctionChain(Dwarf_Die* cu, Dwarf_Addr addr) {
  std::vector<Dwarf_Die> chain;
  Dwarf_Die* scopes = nullptr;
  const int nscopes = dwarf_getscopes(cu, addr, &scopes);
  if (nscopes > 0) {
    // Past the innermost inlined instance, dwarf_getscopes() continues with
    // the scopes of its *abstract* definition, not with the function it was
    // inlined into. dwarf_getscopes_die() on the innermost scope yields the
    // physical nesting instead, which is the inline call chain.
    Dwarf_Die* nesting = nullptr;
    const int nnesting = dwarf_getscopes_die(&scopes[0], &nesting);
    if (nnesting > 0) chain = ChainFromNesting(nesting, nnesting);
    std::free(nesting);
  }
  std::free(scopes);
  if (chain.empty()) {
    // dwarf_getscopes() prunes DIEs without addresses, such as namespaces,
    // so it misses functions defined inside them (Clang puts them there;
    // GCC emits them at CU level). Walk the whole CU instead.
    std::vector<Dwarf_Die> path;
    FindCodeScopes(cu, addr, 0, &path);
    std::reverse(path.begin(), path.end());
    chain = ChainFromNesting(path.data(), path.size());
  }
  return chain;
}

// ELF symbol-table name for `pc` (used when there is no DWARF, e.g. for a
// stripped libc), demangled.
std::string ElfSymbolName(Dwfl_Module* module, uint64_t pc) {
  GElf_Off offset = 0;
  GElf_Sym sym;
  return Demangle(dwfl_module_addrinfo(module, pc, &offset, &sym, nullptr,
                                       nullptr, nullptr));
}

}  // namespace

std::unique_ptr<Symbolizer> Symbolizer::ForProcess(pid_t pid,
                                                   std::string* error) {
  // dwfl_standard_find_debuginfo() falls back to debuginfod when libdw was
  // built with it (Debian's is) and DEBUGINFOD_URLS is set (Debian sets it
  // in /etc/profile.d). A network download could stall the report for
  // minutes or leak binary IDs, so debug info comes from local files only.
  // This process is our own single-threaded helper, so unsetenv() is safe.
  unsetenv("DEBUGINFOD_URLS");

  auto fail = [error](std::string message) -> std::unique_ptr<Symbolizer> {
    if (error != nullptr) *error = std::move(message);
    return nullptr;
  };

  Dwfl* dwfl = dwfl_begin(&kProcCallbacks);
  if (dwfl == nullptr) {
    return fail(std::string("dwfl_begin: ") + dwfl_errmsg(-1));
  }
  dwfl_report_begin(dwfl);
  const int rc = dwfl_linux_proc_report(dwfl, pid);
  if (rc != 0) {
    // Positive: errno from opening /proc/PID/maps; -1: a libdwfl error.
    std::string message =
        "dwfl_linux_proc_report(" + std::to_string(pid) +
        "): " + (rc > 0 ? std::strerror(rc) : dwfl_errmsg(-1));
    dwfl_end(dwfl);
    return fail(std::move(message));
  }
  if (dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
    std::string message = std::string("dwfl_report_end: ") + dwfl_errmsg(-1);
    dwfl_end(dwfl);
    return fail(std::move(message));
  }
  return std::unique_ptr<Symbolizer>(new Symbolizer(dwfl));
}

Symbolizer::Symbolizer(Dwfl* dwfl) : dwfl_(dwfl) {}

Symbolizer::~Symbolizer() { dwfl_end(dwfl_); }

const std::vector<SourceFrame>& Symbolizer::Symbolize(uint64_t pc) {
  auto it = cache_.find(pc);
  if (it == cache_.end()) {
    it = cache_.emplace(pc, SymbolizeUncached(pc)).first;
  }
  return it->second;
}

std::vector<SourceFrame> Symbolizer::SymbolizeUncached(uint64_t pc) {
  std::vector<SourceFrame> frames;
  Dwfl_Module* module = dwfl_addrmodule(dwfl_, pc);
  Dwarf_Addr start = 0;
  Dwarf_Addr end = 0;
  const char* module_name =
      module == nullptr ? nullptr
                        : dwfl_module_info(module, nullptr, &start, &end,
                                           nullptr, nullptr, nullptr, nullptr);
  // dwfl_addrmodule() returns the highest module for every address above it
  // (e.g. 0xffff...), so the module's bounds are checked here.
  if (module == nullptr || pc < start || pc >= end) {
    // Garbage or unmapped address (or a module libdwfl could not report).
    frames.emplace_back();
    return frames;
  }

  // Module and offset are shared by every frame of this address.
  SourceFrame base;
  if (module_name != nullptr) base.module = module_name;
  // The ELF load bias makes the offset match addr2line's addresses even for
  // non-PIE executables (bias 0); without the ELF file, fall back to the
  // lowest mapped address.
  Dwarf_Addr elf_bias = 0;
  base.module_offset = dwfl_module_getelf(module, &elf_bias) != nullptr
                           ? pc - elf_bias
                           : pc - start;

  Dwarf_Addr dwarf_bias = 0;
  Dwarf_Die* cu = FindCompileUnit(module, pc, &dwarf_bias);
  const Dwarf_Addr dwarf_addr = pc - dwarf_bias;
  std::vector<Dwarf_Die> chain;
  if (cu != nullptr) chain = FunctionChain(cu, dwarf_addr);
  if (chain.empty()) {
    // No DWARF here (e.g. a library without debug info): symbol table only.
    SourceFrame frame = base;
    frame.function = ElfSymbolName(module, pc);
    if (cu != nullptr) SetLineAt(cu, dwarf_addr, &frame);
    frames.push_back(std::move(frame));
    return frames;
  }

  for (size_t i = 0; i < chain.size(); ++i) {
    SourceFrame frame = base;
    frame.inlined = dwarf_tag(&chain[i]) == DW_TAG_inlined_subroutine;
    frame.function = LinkageName(&chain[i]);
    if (frame.function.empty() && !frame.inlined) {
      // GCC omits DW_AT_linkage_name for internal-linkage functions, but the
      // symbol table still has their mangled name, parameters included. The
      // symbol must mention the DWARF name, so a stray neighbouring symbol
      // (e.g. in a stripped binary) is not picked up instead.
      std::string symbol = ElfSymbolName(module, pc);
      Dwarf_Die decl = DeclarationOf(chain[i]);
      const std::string base_name = BaseName(&decl);
      if (!base_name.empty() && symbol.find(base_name) != std::string::npos) {
        frame.function = std::move(symbol);
      }
    }
    if (frame.function.empty()) frame.function = QualifiedName(&chain[i]);
    if (i == 0) {
      SetLineAt(cu, dwarf_addr, &frame);
    } else {
      // An outer frame is "at" the call site of the inlined code it contains.
      SetCallSite(&chain[i - 1], &frame);
    }
    frames.push_back(std::move(frame));
  }
  // Nameless DWARF for the physical function (rare, e.g. some compiler-made
  // thunks): the symbol table still knows which function this is.
  if (frames.back().function.empty() && !frames.back().inlined) {
    frames.back().function = ElfSymbolName(module, pc);
  }
  return frames;
}

}  // namespace gtest_watchdog_internal
