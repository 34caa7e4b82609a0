// Loaded where golden_departed.so was, once it is gone: its code must never name frames of the
// departed library.
extern "C" __attribute__((visibility("default"))) int golden_other_unrelated(int x) {
  return x * 3 + 1;
}

extern "C" __attribute__((visibility("default"))) int golden_other_padding(int x) {
  return x * 5 + 2;
}
