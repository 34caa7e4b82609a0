// Hook for dlclose: remembers a library before it leaves, so stacks captured inside it can
// still be named (departed_modules.h).
#include <dlfcn.h>

#include "preload/departed_modules.h"
#include "preload/guard.h"
#include "preload/real_functions.h"

using namespace threadleak;

extern "C" __attribute__((visibility("default"))) int dlclose(void* handle) {
  if (t_in_tool) return Real().dlclose(handle);
  tl_module module;
  bool described;
  {
    ToolScope scope;
    described = DescribeLoadedModule(handle, &module);
  }
  int result = Real().dlclose(handle);
  if (result == 0 && described) {
    ToolScope scope;
    RememberIfDeparted(module);
  }
  return result;
}
