// A plugin that needs libunwind (DT_NEEDED), for unwinder_user.c's plugin build: opened after
// start, it shares the libunwind.so.8 threadleak loaded, and registers what it is given in
// libunwind's list of dynamic unwind info.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

__attribute__((visibility("default"))) void plugin_register(unw_dyn_info_t* info) {
  _U_dyn_register(info);
}
