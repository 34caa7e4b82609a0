// A libdwfl find_debuginfo callback that looks on the local disk, and on the network only when
// the user asked for it (the debuginfod option).
//
// Why not dwfl_standard_find_debuginfo: in elfutils 0.188 it ends, when nothing local matched,
// with a debuginfod query (libdwfl dlopens libdebuginfod.so.1 on the first miss), and
// libdebuginfod downloads from every server listed in $DEBUGINFOD_URLS — which Debian and Fedora
// set for every login shell. A leak report must not stall on the network (libdebuginfod's default
// timeout is 90 s a file), nor send the build-ids of the user's binaries to a server, unless the
// user opted in. libdwfl's only other debuginfod call is in dwfl_build_id_find_elf, which the
// symbolizer does not use.
//
// Searched, like the standard callback minus the network, with ROOT each of DebugSearch::roots
// (/usr/lib/debug by default; threadleak-symbolize --debug-dir adds more):
//   1. ROOT/.build-id/xx/yyyy.debug, by the module's build-id (dwfl_build_id_find_debuginfo,
//      which opens local files only, in the roots the Dwfl's debuginfo_path lists);
//   2. the .gnu_debuglink name next to the module, in its .debug/ subdirectory and under
//      ROOT/<the module's directory>/, for the path as given and for its realpath;
//   3. for a dwz supplementary file (.gnu_debugaltlink): the linked path as given, next to the
//      debug file, and in ROOT/.dwz/;
//   4. only with DebugSearch::debuginfod: dwfl_standard_find_debuginfo, which asks the servers.
// A candidate must carry the build-id the module (or the altlink) names; without a build-id it
// must match the debuglink CRC. Called with libdwfl's lock held by the caller (the symbolizer's
// mutex); allocates; never throws.
#ifndef THREADLEAK_SYMBOLIZER_OFFLINE_DEBUGINFO_H_
#define THREADLEAK_SYMBOLIZER_OFFLINE_DEBUGINFO_H_

#include <elfutils/libdwfl.h>

#include <string>
#include <vector>

namespace threadleak::symbolizer_internal {

struct DebugSearch {
  std::vector<std::string> roots = {"/usr/lib/debug"};
  bool debuginfod = false;

  // The value for Dwfl_Callbacks::debuginfo_path: elfutils' default with every root.
  std::string DebuginfoPath() const;
};

// Signature of Dwfl_Callbacks::find_debuginfo. The module's userdata (*userdata) points to the
// DebugSearch to use, or is null for the defaults. Returns an open fd and sets
// *debuginfo_file_name (malloc'd, libdwfl frees it), or -1 with errno 0 when nothing matched.
int FindDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                  const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                  char** debuginfo_file_name);

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_OFFLINE_DEBUGINFO_H_
