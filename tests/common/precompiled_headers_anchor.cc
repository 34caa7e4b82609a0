// The target that precompiles the headers the test suites share (tests/CMakeLists.txt): CMake
// builds a precompiled header only for a target with a source of the same language.
int main() {
  return 0;
}
