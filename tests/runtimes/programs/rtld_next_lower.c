// The library found after rtld_next_upper in the search order: its layered_name is what
// dlsym(RTLD_NEXT, "layered_name") from rtld_next_upper must find.
const char* layered_name(void) {
  return "lower";
}
