// The shim's standing in this process, as start-up and fork leave it (startup/startup.h): whether
// it works at all, whether reports may be made, and whether the tool's state is this process's.
// Plain flags: safe anywhere, signal handlers included (OwnsToolState makes a system call).
#ifndef THREADLEAK_PRELOAD_CORE_RUNTIME_H_
#define THREADLEAK_PRELOAD_CORE_RUNTIME_H_

namespace threadleak {

// True in a secure-execution process (AT_SECURE), or in a copy of the shim loaded after another,
// where the shim does nothing but forward calls. Valid after EnsureRuntimeInitialized()
// (startup/startup.h); MarkRuntimeInert is start-up's, before that returns.
bool RuntimeInert();
void MarkRuntimeInert();

// The program installed a seccomp filter (prctl(PR_SET_SECCOMP), the seccomp system call): it
// may kill the process for any system call a report makes (open, getdents, mmap, ...), so from
// then on no report is made — not at exit, not in dumps. The program runs as without the tool.
void NoteSeccompFilter();
bool RuntimeSandboxed();

// Whether the tool's state is this process's own: false before start-up, in an inert copy, and
// in a child made without the tool hearing of it — a vfork child, which shares its parent's
// memory (anything it writes there lands in the parent's state), or a raw clone(). The exit
// check and the API do nothing there. (Start-up, fork's handlers and the _Fork hook make the state
// a process's own: AdoptToolState.) A system call: not for fast paths.
bool OwnsToolState();
void AdoptToolState();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_RUNTIME_H_
