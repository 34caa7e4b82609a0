# Running CTest tests under threadleak. Included by threadleak-config.cmake; uses THREADLEAK_SHIM.
#
#   threadleak_test(<test>... [OPTIONS <key=value>...])
#       Runs the named tests (of the current directory) under the shim.
#   threadleak_directory_tests([DIRECTORY <dir>] [OPTIONS <key=value>...])
#       Every test of a directory. Without DIRECTORY: the current one, applied when CMake has
#       read the whole directory, so tests added after the call are included too. With DIRECTORY
#       (CMake 3.28 or later): the tests that directory has when called.
#   threadleak_discovered_tests(<target> [TEST_LIST <var>] [TIMEOUT <seconds>]
#                               [OPTIONS <key=value>...])
#       The tests gtest_discover_tests(<target>) finds when CTest runs; call it after that.
#   threadleak_environment_modification(<var> [OPTIONS <key=value>...])
#       Sets <var> to a value for the ENVIRONMENT_MODIFICATION test property, for tests made
#       some other way.
#
# Hung tests: each test with a CTest TIMEOUT (its TIMEOUT property when CMake has read the
# directory, else DART_TESTING_TIMEOUT when the CTest module set one) also gets
# timeout_ms a margin below it — a tenth of the timeout, at least 2 s (time for the dump on a
# loaded machine) and at most 30 s, never more than half — so a test that hangs dumps every thread (where each one waits) into its
# output and ends with status 124 before CTest kills it. threadleak_discovered_tests cannot read
# the properties gtest_discover_tests gives its tests: pass the same TIMEOUT to it, and it sets
# both. A timeout_ms in OPTIONS or in the caller's THREADLEAK_OPTIONS wins.
#
# With CMake 3.27 or later (THREADLEAK_CTEST_TIMEOUT_SIGNAL, ON there by default) the test keeps
# its whole TIMEOUT instead: CTest ends it with SIGTERM (TIMEOUT_SIGNAL_NAME) and waits the margin
# (TIMEOUT_SIGNAL_GRACE_PERIOD) before SIGKILL, and dump_on_fatal=1 makes the dying process dump
# every thread first; CTest reports a timeout. A test given its own TIMEOUT_SIGNAL_NAME keeps it,
# and gets timeout_ms. Set THREADLEAK_CTEST_TIMEOUT_SIGNAL OFF for timeout_ms everywhere (a test
# program with a SIGTERM handler of its own would not dump).
#
# OPTIONS are THREADLEAK_OPTIONS pairs, given as separate arguments or joined with ':' — e.g.
# OPTIONS "suppressions=${CMAKE_CURRENT_SOURCE_DIR}/threadleak.supp" linger_ms=200. A value
# cannot contain ':' or blanks (the option syntax has no quoting).
#
# How a test runs: the shim is prepended to LD_PRELOAD and OPTIONS to THREADLEAK_OPTIONS, both
# as the test starts (the ENVIRONMENT_MODIFICATION property, CMake 3.22), so whatever the
# caller of ctest set stays, and its THREADLEAK_OPTIONS win over OPTIONS: a CI job can run
# `THREADLEAK_OPTIONS=format=json:log_path=reports/tl ctest` to collect JSON reports. A test
# whose process ends with threads still running fails with exit status 66 and the report
# (stderr unless log_path says otherwise), whatever the test framework reported.

if(NOT DEFINED THREADLEAK_CTEST_TIMEOUT_SIGNAL)
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.27)
    set(THREADLEAK_CTEST_TIMEOUT_SIGNAL ON)
  else()
    set(THREADLEAK_CTEST_TIMEOUT_SIGNAL OFF)
  endif()
endif()

function(threadleak_environment_modification out_var)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "threadleak_environment_modification: unexpected arguments: "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(CMAKE_VERSION VERSION_LESS 3.22)
    message(FATAL_ERROR "threadleak: running tests under the shim needs CMake 3.22 or later "
                        "(the ENVIRONMENT_MODIFICATION test property)")
  endif()
  if(NOT THREADLEAK_SHIM)
    message(FATAL_ERROR "threadleak: THREADLEAK_SHIM is not set (find_package(threadleak) first)")
  endif()
  set(modification "LD_PRELOAD=path_list_prepend:${THREADLEAK_SHIM}")
  list(JOIN arg_OPTIONS ":" options)
  if(NOT options STREQUAL "")
    list(APPEND modification "THREADLEAK_OPTIONS=string_prepend:${options}:")
  endif()
  set(${out_var} "${modification}" PARENT_SCOPE)
endfunction()

# The timeout_ms for a CTest timeout of `seconds` (see "Hung tests" above), or "" for none.
function(_threadleak_timeout_ms out_var seconds)
  set(ms "")
  if(seconds MATCHES "^([0-9]+)(\\.([0-9]+))?$")
    set(fraction "${CMAKE_MATCH_3}000")
    string(SUBSTRING "${fraction}" 0 3 fraction)
    math(EXPR total "${CMAKE_MATCH_1} * 1000 + 1${fraction} - 1000")
    if(total GREATER 0)
      math(EXPR margin "${total} / 10")
      if(margin LESS 2000)
        set(margin 2000)
      elseif(margin GREATER 30000)
        set(margin 30000)
      endif()
      math(EXPR half "${total} / 2")
      if(margin GREATER half)
        set(margin ${half})
      endif()
      math(EXPR ms "${total} - ${margin}")
    endif()
  endif()
  set(${out_var} "${ms}" PARENT_SCOPE)
endfunction()

# For CTest's timeout signal (3.27): the properties and the option that give a test of `seconds`
# a dump when CTest ends it (see "Hung tests" above), or "" for no timeout. The grace period is
# the margin timeout_ms would leave, in seconds.
function(_threadleak_timeout_signal out_properties out_modification seconds)
  _threadleak_timeout_ms(ms "${seconds}")
  set(properties "")
  set(modification "")
  if(ms)
    _threadleak_timeout_ms_total(total "${seconds}")
    math(EXPR grace_ms "${total} - ${ms}")
    math(EXPR whole "${grace_ms} / 1000")
    math(EXPR fraction "${grace_ms} % 1000 + 1000")  # three digits after a leading 1
    string(SUBSTRING "${fraction}" 1 3 fraction)
    set(properties TIMEOUT_SIGNAL_NAME SIGTERM TIMEOUT_SIGNAL_GRACE_PERIOD "${whole}.${fraction}")
    set(modification "THREADLEAK_OPTIONS=string_prepend:dump_on_fatal=1:")
  endif()
  set(${out_properties} "${properties}" PARENT_SCOPE)
  set(${out_modification} "${modification}" PARENT_SCOPE)
endfunction()

# A CTest timeout of `seconds` in milliseconds (validated by _threadleak_timeout_ms first).
function(_threadleak_timeout_ms_total out_var seconds)
  string(REGEX MATCH "^([0-9]+)(\\.([0-9]+))?$" unused "${seconds}")
  set(fraction "${CMAKE_MATCH_3}000")
  string(SUBSTRING "${fraction}" 0 3 fraction)
  math(EXPR total "${CMAKE_MATCH_1} * 1000 + 1${fraction} - 1000")
  set(${out_var} "${total}" PARENT_SCOPE)
endfunction()

# Gives each test (of `directory`) a timeout_ms below its CTest timeout. Runs when the directory
# has been read, so a TIMEOUT set after threadleak_test counts.
function(_threadleak_test_timeouts directory)
  foreach(test IN LISTS ARGN)
    # TEST properties of another directory need CMake 3.28 (threadleak_directory_tests checks).
    set(scope TEST "${test}")
    if(NOT directory STREQUAL CMAKE_CURRENT_SOURCE_DIR)
      list(APPEND scope DIRECTORY "${directory}")
    endif()
    get_property(seconds ${scope} PROPERTY TIMEOUT)
    if(NOT seconds AND DEFINED DART_TESTING_TIMEOUT)
      set(seconds "${DART_TESTING_TIMEOUT}")
    endif()
    _threadleak_timeout_ms(ms "${seconds}")
    get_property(own_signal ${scope} PROPERTY TIMEOUT_SIGNAL_NAME)
    if(ms AND THREADLEAK_CTEST_TIMEOUT_SIGNAL AND NOT own_signal)
      _threadleak_timeout_signal(properties modification "${seconds}")
      set_property(${scope} APPEND PROPERTY ENVIRONMENT_MODIFICATION "${modification}")
      while(properties)
        list(POP_FRONT properties name value)
        set_property(${scope} PROPERTY ${name} "${value}")
      endwhile()
    elseif(ms)
      set_property(${scope} APPEND PROPERTY ENVIRONMENT_MODIFICATION
                   "THREADLEAK_OPTIONS=string_prepend:timeout_ms=${ms}:")
    endif()
  endforeach()
endfunction()

# cmake_language(DEFER) of _threadleak_test_timeouts for these tests of the current directory.
function(_threadleak_defer_test_timeouts)
  set(call "_threadleak_test_timeouts [==[${CMAKE_CURRENT_SOURCE_DIR}]==]")
  foreach(test IN LISTS ARGN)
    string(APPEND call " [==[${test}]==]")
  endforeach()
  cmake_language(EVAL CODE "cmake_language(DEFER CALL ${call})")
endfunction()

function(threadleak_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "OPTIONS")
  if(NOT arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "threadleak_test: name at least one test")
  endif()
  _threadleak_test_now(${arg_UNPARSED_ARGUMENTS} OPTIONS ${arg_OPTIONS})
  _threadleak_defer_test_timeouts(${arg_UNPARSED_ARGUMENTS})
endfunction()

# threadleak_test without the timeouts, which its callers add when the directory is read.
function(_threadleak_test_now)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "OPTIONS")
  threadleak_environment_modification(modification OPTIONS ${arg_OPTIONS})
  foreach(test IN LISTS arg_UNPARSED_ARGUMENTS)
    if(NOT TEST "${test}")
      message(FATAL_ERROR "threadleak_test: no test '${test}' in ${CMAKE_CURRENT_SOURCE_DIR} "
                          "(add_test it first, in this directory)")
    endif()
    set_property(TEST "${test}" APPEND PROPERTY ENVIRONMENT_MODIFICATION ${modification})
  endforeach()
endfunction()

# The deferred half of threadleak_directory_tests for the current directory.
function(_threadleak_directory_tests_now)
  get_property(tests DIRECTORY PROPERTY TESTS)
  if(tests)
    _threadleak_test_now(${tests} OPTIONS ${ARGN})
    _threadleak_test_timeouts("${CMAKE_CURRENT_SOURCE_DIR}" ${tests})
  endif()
endfunction()

function(threadleak_directory_tests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "DIRECTORY" "OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "threadleak_directory_tests: unexpected arguments: "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  threadleak_environment_modification(modification OPTIONS ${arg_OPTIONS})  # checks early
  if(NOT DEFINED arg_DIRECTORY)
    # Deferred call arguments are evaluated when it runs, so bake the options in now.
    set(call "_threadleak_directory_tests_now")
    foreach(option IN LISTS arg_OPTIONS)
      string(APPEND call " [==[${option}]==]")
    endforeach()
    cmake_language(EVAL CODE "cmake_language(DEFER CALL ${call})")
    return()
  endif()
  if(CMAKE_VERSION VERSION_LESS 3.28)
    message(FATAL_ERROR "threadleak_directory_tests(DIRECTORY ...) needs CMake 3.28 or later; "
                        "call threadleak_directory_tests() in that directory's CMakeLists.txt")
  endif()
  get_property(tests DIRECTORY "${arg_DIRECTORY}" PROPERTY TESTS)
  foreach(test IN LISTS tests)
    set_property(TEST "${test}" DIRECTORY "${arg_DIRECTORY}"
                 APPEND PROPERTY ENVIRONMENT_MODIFICATION ${modification})
  endforeach()
  _threadleak_test_timeouts("${arg_DIRECTORY}" ${tests})
endfunction()

# gtest_discover_tests creates its tests when CTest runs, and its PROPERTIES cannot carry a list
# (CMake splits it), so this adds a file to the directory's TEST_INCLUDE_FILES, after
# gtest_discover_tests' own: it sets the property on the tests in <target>_TESTS (or TEST_LIST),
# the list gtest_discover_tests leaves for CTest. It replaces any ENVIRONMENT_MODIFICATION those
# tests were given through PROPERTIES.
function(threadleak_discovered_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TEST_LIST;TIMEOUT" "OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "threadleak_discovered_tests: unexpected arguments: "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT DEFINED arg_TEST_LIST)
    set(arg_TEST_LIST "${target}_TESTS")
  endif()
  threadleak_environment_modification(modification OPTIONS ${arg_OPTIONS})
  set(timeout_properties "")
  if(DEFINED arg_TIMEOUT)
    _threadleak_timeout_ms(ms "${arg_TIMEOUT}")
    if(NOT ms)
      message(FATAL_ERROR "threadleak_discovered_tests: TIMEOUT takes a number of seconds, not "
                          "'${arg_TIMEOUT}'")
    endif()
    set(timeout_properties " TIMEOUT ${arg_TIMEOUT}")
    if(THREADLEAK_CTEST_TIMEOUT_SIGNAL)
      _threadleak_timeout_signal(properties signal_modification "${arg_TIMEOUT}")
      list(APPEND modification "${signal_modification}")
      list(JOIN properties " " properties)
      string(APPEND timeout_properties " ${properties}")
    else()
      list(APPEND modification "THREADLEAK_OPTIONS=string_prepend:timeout_ms=${ms}:")
    endif()
  endif()
  set(script "${CMAKE_CURRENT_BINARY_DIR}/threadleak_${arg_TEST_LIST}.cmake")
  file(WRITE "${script}"
       "# Written by threadleak_discovered_tests(${target}): run its tests under threadleak.\n"
       "if(${arg_TEST_LIST})\n"
       "  set_tests_properties(\${${arg_TEST_LIST}} PROPERTIES${timeout_properties}\n"
       "                       ENVIRONMENT_MODIFICATION [==[${modification}]==])\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()
