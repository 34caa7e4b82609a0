# cmake -DPROJECT=<ctest_hang> -DSHIM=<libthreadleak.so> -DFUNCTIONS=<threadleak-functions.cmake>
#       -DWORK=<scratch dir> -P timeout_signal_test.cmake
# Both timeout paths of threadleak-functions.cmake, checked at configure time with whatever CMake
# runs this (ctest_hang is run for real by report_tool_test's CtestTimeouts, with the path this
# CMake takes): the project is configured with THREADLEAK_CTEST_TIMEOUT_SIGNAL ON (CMake 3.27's
# TIMEOUT_SIGNAL_NAME) and OFF (timeout_ms), and each way its tests must carry what that path
# sets, in the CTestTestfile.cmake files and the script for the discovered tests.
set(failures 0)
# Fails the check when `text` does (want_match TRUE) or does not (FALSE) match `regex`.
function(expect text want_match regex what)
  if(text MATCHES "${regex}")
    set(matched TRUE)
  else()
    set(matched FALSE)
  endif()
  if(NOT matched STREQUAL want_match)
    message(SEND_ERROR "${what}: expected ${want_match} for /${regex}/ in:\n${text}")
    math(EXPR count "${failures} + 1")
    set(failures ${count} PARENT_SCOPE)
  endif()
endfunction()

# The properties line CMake wrote for `test` in `file`.
function(properties_of out file test)
  file(READ "${file}" text)
  string(REGEX MATCH "set_tests_properties\\(\\[=\\[${test}\\]=\\] PROPERTIES[^\n]*" line "${text}")
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

foreach(signal ON OFF)
  set(build "${WORK}/${signal}")
  file(REMOVE_RECURSE "${build}")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${PROJECT}" -B "${build}" "-DTHREADLEAK_SHIM=${SHIM}"
            "-DTHREADLEAK_FUNCTIONS=${FUNCTIONS}" "-DTHREADLEAK_CTEST_TIMEOUT_SIGNAL=${signal}"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "configuring ${PROJECT} failed:\n${output}")
  endif()
  foreach(case "CTestTestfile.cmake:hang_each" "directory/CTestTestfile.cmake:hang_directory")
    string(REPLACE ":" ";" case "${case}")
    list(GET case 0 file)
    list(GET case 1 test)
    properties_of(line "${build}/${file}" ${test})
    expect("${line}" TRUE "PROPERTIES" "${signal}: ${test}'s properties")
    if(signal)
      expect("${line}" TRUE "TIMEOUT_SIGNAL_NAME \"SIGTERM\"" "${signal}: ${test}")
      expect("${line}" TRUE "TIMEOUT_SIGNAL_GRACE_PERIOD \"2\\.000\"" "${signal}: ${test}")
      expect("${line}" TRUE "dump_on_fatal=1:" "${signal}: ${test}")
      expect("${line}" FALSE "timeout_ms" "${signal}: ${test}")
    else()
      expect("${line}" TRUE "timeout_ms=3000:" "${signal}: ${test}")
      expect("${line}" FALSE "TIMEOUT_SIGNAL|dump_on_fatal" "${signal}: ${test}")
    endif()
  endforeach()
  # A test's own signal stays; it gets the time limit.
  properties_of(line "${build}/CTestTestfile.cmake" own_signal_each)
  expect("${line}" TRUE "TIMEOUT_SIGNAL_NAME \"SIGUSR1\"" "${signal}: own_signal_each")
  expect("${line}" TRUE "timeout_ms=3000:" "${signal}: own_signal_each")
  expect("${line}" FALSE "dump_on_fatal|GRACE" "${signal}: own_signal_each")
  # gtest_discover_tests' tests get theirs when CTest runs, from this script.
  file(READ "${build}/threadleak_hang_gtest_TESTS.cmake" script)
  if(signal)
    expect("${script}" TRUE
           "TIMEOUT 5 TIMEOUT_SIGNAL_NAME SIGTERM TIMEOUT_SIGNAL_GRACE_PERIOD 2\\.000"
           "${signal}: discovered tests")
    expect("${script}" TRUE "dump_on_fatal=1:" "${signal}: discovered tests")
    expect("${script}" FALSE "timeout_ms" "${signal}: discovered tests")
  else()
    expect("${script}" TRUE "timeout_ms=3000:" "${signal}: discovered tests")
    expect("${script}" FALSE "TIMEOUT_SIGNAL|dump_on_fatal" "${signal}: discovered tests")
  endif()
endforeach()
if(failures EQUAL 0)
  message(STATUS "both timeout paths as expected")
endif()
