# cmake -DFUNCTIONS=<threadleak-functions.cmake> -P timeout_margin_test.cmake
# The time limit threadleak gives a test with a CTest timeout (threadleak-functions.cmake): a tenth
# below it, at least 2 s and at most 30 s, never more than half; nothing for no timeout.
include("${FUNCTIONS}")
set(cases
  "5=3000" "1=500" "0.5=250" "1.5=750" "4=2000" "10=8000" "30=27000" "60=54000"
  "1500=1470000"
  "0=" "=" "abc=" "-3=" "5s=")
set(failures 0)
foreach(case IN LISTS cases)
  string(FIND "${case}" "=" at)
  string(SUBSTRING "${case}" 0 ${at} seconds)
  math(EXPR after "${at} + 1")
  string(SUBSTRING "${case}" ${after} -1 expected)
  _threadleak_timeout_ms(ms "${seconds}")
  if(NOT "${ms}" STREQUAL "${expected}")
    message(SEND_ERROR "TIMEOUT '${seconds}': timeout_ms '${ms}', expected '${expected}'")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
if(failures EQUAL 0)
  message(STATUS "all timeout margins as expected")
endif()

# With CTest's timeout signal (CMake 3.27): SIGTERM, and the same margin as its grace period.
set(signal_cases "5=2.000" "1.5=0.750" "10=2.000" "60=6.000" "1500=30.000" "0=" "abc=")
foreach(case IN LISTS signal_cases)
  string(FIND "${case}" "=" at)
  string(SUBSTRING "${case}" 0 ${at} seconds)
  math(EXPR after "${at} + 1")
  string(SUBSTRING "${case}" ${after} -1 grace)
  _threadleak_timeout_signal(properties modification "${seconds}")
  set(expected "")
  set(expected_modification "")
  if(NOT grace STREQUAL "")
    set(expected TIMEOUT_SIGNAL_NAME SIGTERM TIMEOUT_SIGNAL_GRACE_PERIOD ${grace})
    set(expected_modification "THREADLEAK_OPTIONS=string_prepend:dump_on_fatal=1:")
  endif()
  if(NOT "${properties}" STREQUAL "${expected}" OR
     NOT "${modification}" STREQUAL "${expected_modification}")
    message(SEND_ERROR "TIMEOUT '${seconds}': '${properties}' '${modification}', expected "
                       "'${expected}' '${expected_modification}'")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
if(failures EQUAL 0)
  message(STATUS "all timeout signal properties as expected")
endif()
