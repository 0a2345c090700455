#include "gtest_watchdog/symbolize/symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "gtest_watchdog/symbolize/dwarf_names.h"

namespace gtest_watchdog_internal {
namespace {

// The process being symbolized; set by ForProcess (the helper is
// single-threaded, and libdwfl's callback has no room for it).
pid_t g_target_pid = 0;

// Like dwfl_linux_proc_find_elf, and also finds the main executable when
// its file was deleted or replaced while the tests ran (rebuilt during the
// run): /proc/PID/exe still opens the file the process runs.
int FindElf(Dwfl_Module* mod, void** userdata, const char* name,
            Dwarf_Addr base, char** file_name, Elf** elfp) {
  static constexpr char kDeleted[] = " (deleted)";
  const size_t n = strlen(name);
  const size_t d = sizeof(kDeleted) - 1;
  if (g_target_pid > 0 && n > d && strcmp(name + n - d, kDeleted) == 0) {
    const std::string exe = "/proc/" + std::to_string(g_target_pid) + "/exe";
    char target[4096];
    const ssize_t len = readlink(exe.c_str(), target, sizeof(target) - 1);
    if (len > 0 && static_cast<size_t>(len) == n &&
        memcmp(target, name, n) == 0) {
      const int fd = open(exe.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        *file_name = strdup(exe.c_str());  // libdwfl frees it
        return fd;
      }
    }
  }
  return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
}

// Modules come from /proc/PID/maps; separate debug info is searched in the
// default local path (next to the file, /usr/lib/debug, build-id links).
const Dwfl_Callbacks kProcCallbacks = {
    FindElf,                       // find_elf
    dwfl_standard_find_debuginfo,  // find_debuginfo
    nullptr,                       // section_address: only for ET_REL files
    nullptr,                       // debuginfo_path: null means the default
};

bool IsCodeScope(int tag) {
  switch (tag) {
    case DW_TAG_inlined_subroutine:
    case DW_TAG_lexical_block:
    case DW_TAG_try_block:
    case DW_TAG_catch_block:
    case DW_TAG_with_stmt:
      return true;
    default:
      return false;
  }
}

// Scopes that have no addresses but can own function definitions (Clang
// defines namespace members inside DW_TAG_namespace; GCC at CU level) and
// give functions their qualified names.
bool IsNamingScope(int tag) {
  switch (tag) {
    case DW_TAG_namespace:
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_module:
      return true;
    default:
      return false;
  }
}

// Everything needed from one compile unit, gathered in a single walk over
// its DIE tree. Per-address lookups with dwarf_getscopes() and
// dwarf_getscopes_die() each re-walk the CU, which costs milliseconds per
// address for CUs that include gtest and the STL; dwarf_getscopes() also
// skips DIEs without addresses, so it misses Clang's functions defined inside
// DW_TAG_namespace.
class CuIndex {
 public:
  explicit CuIndex(Dwarf_Die* cu) {
    IndexScope(cu, nullptr, 0);
    std::sort(ranges_.begin(), ranges_.end(),
              [](const Range& a, const Range& b) { return a.low < b.low; });
  }

  // The outermost (physical, not inlined) function containing `addr`.
  const Dwarf_Die* FunctionAt(Dwarf_Addr addr) const {
    auto it = std::upper_bound(
        ranges_.begin(), ranges_.end(), addr,
        [](Dwarf_Addr a, const Range& range) { return a < range.low; });
    if (it == ranges_.begin()) return nullptr;
    --it;
    return addr < it->high ? &it->function : nullptr;
  }

  // The namespace or class directly enclosing `die`, if `die` is in this CU.
  const Dwarf_Die* ParentOf(const Dwarf_Die& die) const {
    auto it = parents_.find(die.addr);
    return it == parents_.end() ? nullptr : &it->second;
  }

 private:
  struct Range {
    Dwarf_Addr low;
    Dwarf_Addr high;
    Dwarf_Die function;
  };

  void IndexScope(Dwarf_Die* scope, const Dwarf_Die* naming_scope, int depth) {
    Dwarf_Die child;
    if (depth > kMaxDieDepth || dwarf_child(scope, &child) != 0) return;
    do {
      const int tag = dwarf_tag(&child);
      if (IsNamingScope(tag)) {
        if (naming_scope != nullptr)
          parents_.emplace(child.addr, *naming_scope);
        Dwarf_Die nested = child;
        IndexScope(&nested, &nested, depth + 1);
      } else if (tag == DW_TAG_subprogram) {
        if (naming_scope != nullptr)
          parents_.emplace(child.addr, *naming_scope);
        // Declarations and abstract instances have no ranges; only concrete
        // definitions do (possibly several, e.g. hot and cold parts).
        Dwarf_Addr base = 0;
        Dwarf_Addr low = 0;
        Dwarf_Addr high = 0;
        for (ptrdiff_t offset = dwarf_ranges(&child, 0, &base, &low, &high);
             offset > 0;
             offset = dwarf_ranges(&child, offset, &base, &low, &high)) {
          if (low < high) ranges_.push_back({low, high, child});
        }
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  std::vector<Range> ranges_;
  // Keyed by Dwarf_Die::addr, the DIE's address in the mapped debug data,
  // which is unique across all files libdw has open.
  std::unordered_map<const void*, Dwarf_Die> parents_;
};

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

// The inline call chain at `addr`, innermost first: the nested
// DW_TAG_inlined_subroutine DIEs containing `addr` inside `function`, then
// `function` itself.
std::vector<Dwarf_Die> InlineChain(const Dwarf_Die& function, Dwarf_Addr addr) {
  std::vector<Dwarf_Die> chain;
  Dwarf_Die scope = function;
  for (int depth = 0; depth < kMaxDieDepth; ++depth) {
    Dwarf_Die child;
    bool found = false;
    if (dwarf_child(&scope, &child) == 0) {
      do {
        if (IsCodeScope(dwarf_tag(&child)) && dwarf_haspc(&child, addr) > 0) {
          found = true;
          break;
        }
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    if (!found) break;
    scope = child;
    if (dwarf_tag(&scope) == DW_TAG_inlined_subroutine) chain.push_back(scope);
  }
  std::reverse(chain.begin(), chain.end());
  chain.push_back(function);
  return chain;
}

// Raw (mangled) ELF symbol-table name for `pc`, or nullptr. Used when there
// is no DWARF, e.g. for a library without debug info.
const char* ElfSymbol(Dwfl_Module* module, uint64_t pc) {
  GElf_Off offset = 0;
  GElf_Sym sym;
  return dwfl_module_addrinfo(module, pc, &offset, &sym, nullptr, nullptr,
                              nullptr);
}

// True if `addr` lies in one of `module`'s PT_LOAD segments as loaded
// (p_memsz, so .bss included).
bool InLoadSegment(Dwfl_Module* module, uint64_t addr) {
  Dwarf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(module, &bias);
  size_t count = 0;
  if (elf == nullptr || elf_getphdrnum(elf, &count) != 0) return false;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr ||
        phdr.p_type != PT_LOAD) {
      continue;
    }
    const uint64_t low = bias + phdr.p_vaddr;
    if (addr >= low && addr - low < phdr.p_memsz) return true;
  }
  return false;
}

}  // namespace

// Owns the libdwfl session and the per-CU indexes built from it.
class Symbolizer::Impl {
 public:
  Impl(Dwfl* dwfl, pid_t pid) : dwfl_(dwfl), pid_(pid) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { dwfl_end(dwfl_); }

  std::vector<SourceFrame> Symbolize(uint64_t pc);
  std::string DataSymbolName(uint64_t addr);
  void Prepare(const std::function<bool()>& stop);

 private:
  const CuIndex& IndexFor(Dwarf_Die* cu);
  std::string QualifiedName(Dwarf_Die* die);
  bool ReportModulesAgain();

  Dwfl* const dwfl_;
  const pid_t pid_;
  bool reported_again_ = false;
  // Keyed by the CU DIE's Dwarf_Die::addr (unique across open files).
  std::unordered_map<const void*, std::unique_ptr<CuIndex>> cu_indexes_;
};

const CuIndex& Symbolizer::Impl::IndexFor(Dwarf_Die* cu) {
  std::unique_ptr<CuIndex>& index = cu_indexes_[cu->addr];
  if (index == nullptr) index = std::make_unique<CuIndex>(cu);
  return *index;
}

// "ns::Foo::Bar", built from the declaration's enclosing scopes. Used when
// there is no linkage name: C functions (just "bar") and, with GCC, C++
// functions with internal linkage (static, anonymous namespace). Parameter
// types are not reconstructed.
std::string Symbolizer::Impl::QualifiedName(Dwarf_Die* die) {
  Dwarf_Die decl = DeclarationOf(*die);
  std::string name = BaseName(&decl);
  Dwarf_Die decl_cu;
  if (name.empty() ||
      dwarf_diecu(&decl, &decl_cu, nullptr, nullptr) == nullptr) {
    return name;
  }
  const CuIndex& index = IndexFor(&decl_cu);
  const Dwarf_Die* parent = index.ParentOf(decl);
  for (int depth = 0; parent != nullptr && depth < kMaxDieDepth; ++depth) {
    Dwarf_Die scope = *parent;
    const char* scope_name = dwarf_diename(&scope);
    if (scope_name == nullptr) {
      scope_name = dwarf_tag(&scope) == DW_TAG_namespace
                       ? "(anonymous namespace)"
                       : "{unnamed type}";
    }
    name.insert(0, std::string(scope_name) + "::");
    parent = index.ParentOf(scope);
  }
  return name;
}

std::vector<SourceFrame> Symbolizer::Impl::Symbolize(uint64_t pc) {
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
  if ((module == nullptr || pc < start || pc >= end) && ReportModulesAgain()) {
    return Symbolize(pc);
  }
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
  const Dwarf_Die* function =
      cu == nullptr ? nullptr : IndexFor(cu).FunctionAt(dwarf_addr);
  if (function == nullptr) {
    // No DWARF here (e.g. a library without debug info): symbol table only.
    SourceFrame frame = base;
    frame.function = Demangle(ElfSymbol(module, pc));
    if (cu != nullptr) SetLineAt(cu, dwarf_addr, &frame);
    frames.push_back(std::move(frame));
    return frames;
  }

  std::vector<Dwarf_Die> chain = InlineChain(*function, dwarf_addr);
  for (size_t i = 0; i < chain.size(); ++i) {
    SourceFrame frame = base;
    frame.inlined = i + 1 < chain.size();
    frame.function = LinkageName(&chain[i]);
    if (frame.function.empty() && !frame.inlined) {
      // GCC omits DW_AT_linkage_name for internal-linkage functions, but the
      // symbol table still has their mangled name, parameters included. The
      // symbol must mention the DWARF name, so a stray neighbouring symbol
      // (e.g. in a stripped binary) is not picked up instead.
      const char* symbol = ElfSymbol(module, pc);
      if (symbol != nullptr && std::strncmp(symbol, "_Z", 2) == 0) {
        std::string demangled = Demangle(symbol);
        Dwarf_Die decl = DeclarationOf(chain[i]);
        const std::string base_name = BaseName(&decl);
        if (!base_name.empty() &&
            demangled.find(base_name) != std::string::npos) {
          frame.function = std::move(demangled);
        }
      }
    }
    if (frame.function.empty()) frame.function = QualifiedName(&chain[i]);
    if (frame.function.empty() && !frame.inlined) {
      // Nameless DWARF (rare, e.g. compiler-made thunks).
      frame.function = Demangle(ElfSymbol(module, pc));
    }
    if (i == 0) {
      SetLineAt(cu, dwarf_addr, &frame);
    } else {
      // An outer frame is "at" the call site of the inlined code it contains.
      SetCallSite(&chain[i - 1], &frame);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

// The modules were reported when the helper started, before the snapshot:
// a library loaded since (dlopen while the stalled process took its census)
// is missing. Reported again once, at the first code address outside every
// module. True if that was done now.
bool Symbolizer::Impl::ReportModulesAgain() {
  if (reported_again_) return false;
  reported_again_ = true;
  dwfl_report_begin_add(dwfl_);
  const int rc = dwfl_linux_proc_report(dwfl_, pid_);
  return dwfl_report_end(dwfl_, nullptr, nullptr) == 0 && rc == 0;
}

void Symbolizer::Impl::Prepare(const std::function<bool()>& stop) {
  // (rank, module): the executable 0, libc 1, the rest 2 in address order.
  using Ranked = std::pair<int, Dwfl_Module*>;
  std::vector<Ranked> modules;
  dwfl_getmodules(
      dwfl_,
      [](Dwfl_Module* m, void**, const char* name, Dwarf_Addr,
         void* arg) -> int {
        const char* slash = name != nullptr ? strrchr(name, '/') : nullptr;
        const bool libc =
            slash != nullptr && strncmp(slash, "/libc.so", 8) == 0;
        static_cast<std::vector<Ranked>*>(arg)->emplace_back(libc ? 1 : 2, m);
        return DWARF_CB_OK;
      },
      &modules, 0);
  char exe[4096];
  const std::string link = "/proc/" + std::to_string(pid_) + "/exe";
  const ssize_t n = readlink(link.c_str(), exe, sizeof(exe) - 1);
  for (Ranked& r : modules) {
    const char* name = dwfl_module_info(r.second, nullptr, nullptr, nullptr,
                                        nullptr, nullptr, nullptr, nullptr);
    if (n > 0 && name != nullptr && strlen(name) == static_cast<size_t>(n) &&
        memcmp(name, exe, static_cast<size_t>(n)) == 0) {
      r.first = 0;
    }
  }
  std::stable_sort(
      modules.begin(), modules.end(),
      [](const Ranked& a, const Ranked& b) { return a.first < b.first; });
  for (const Ranked& r : modules) {
    if (stop()) return;
    Dwarf_Addr start = 0;
    dwfl_module_info(r.second, nullptr, &start, nullptr, nullptr, nullptr,
                     nullptr, nullptr);
    Dwarf_Addr bias = 0;
    if (dwfl_module_getelf(r.second, &bias) == nullptr) continue;
    dwfl_module_getsymtab(r.second);
    // Finds the DWARF and builds libdwfl's compile-unit ranges.
    if (dwfl_module_getdwarf(r.second, &bias) != nullptr) {
      dwfl_module_addrdie(r.second, start, &bias);
    }
  }
}

std::string Symbolizer::Impl::DataSymbolName(uint64_t addr) {
  // A module's bounds come from its file's mappings in /proc/PID/maps, which
  // leave out the anonymous tail of .bss, where dwfl_addrmodule() finds
  // nothing. So the address is checked against each ELF's loaded segments.
  struct Search {
    uint64_t addr;
    Dwfl_Module* found;
  } search{addr, nullptr};
  Dwfl_Module* module = dwfl_addrmodule(dwfl_, addr);
  if (module != nullptr && InLoadSegment(module, addr)) {
    search.found = module;
  } else {
    dwfl_getmodules(
        dwfl_,
        [](Dwfl_Module* candidate, void**, const char*, Dwarf_Addr,
           void* arg) -> int {
          auto* s = static_cast<Search*>(arg);
          if (!InLoadSegment(candidate, s->addr)) return DWARF_CB_OK;
          s->found = candidate;
          return DWARF_CB_ABORT;
        },
        &search, 0);
  }
  module = search.found;
  if (module == nullptr) return std::string();
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(module, addr, &offset, &sym, nullptr,
                                          nullptr, nullptr);
  // Without a sized symbol around `addr`, libdwfl falls back to the nearest
  // symbol below it (e.g. "_end"): that names nothing here.
  if (name == nullptr || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
      offset >= sym.st_size) {
    return std::string();
  }
  return Demangle(name);
}

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

  g_target_pid = pid;
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
  return std::unique_ptr<Symbolizer>(
      new Symbolizer(std::make_unique<Impl>(dwfl, pid)));
}

Symbolizer::Symbolizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Symbolizer::~Symbolizer() = default;

void Symbolizer::Prepare(const std::function<bool()>& stop) {
  impl_->Prepare(stop);
}

std::string Symbolizer::DataSymbolName(uint64_t addr) {
  return impl_->DataSymbolName(addr);
}

const std::vector<SourceFrame>& Symbolizer::Symbolize(uint64_t pc) {
  auto it = cache_.find(pc);
  if (it == cache_.end()) it = cache_.emplace(pc, impl_->Symbolize(pc)).first;
  return it->second;
}

}  // namespace gtest_watchdog_internal
