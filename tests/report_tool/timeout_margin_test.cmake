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
