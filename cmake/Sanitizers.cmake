# The project's self-check with AddressSanitizer and UndefinedBehaviorSanitizer (issue 8):
#
#   cmake -S . -B build-asan -DTHREADLEAK_SANITIZE=address,undefined
#   (scripts/run-sanitized-tests.sh does this and runs the suites)
#
# Everything is instrumented — unit and symbolizer tests, the report module and the symbolizer
# (ordinary C++ with libstdc++, loaded only to write a report), and every test program — except
# the preloaded shim, libthreadleak.so. The shim runs inside other people's processes, links
# libc alone (-nodefaultlibs, --no-undefined) and must not drag a sanitizer runtime into a
# program that has none; an ASan runtime must also come first in the initial library list, and
# the shim is preloaded before the program's own libraries. So:
#   - the shim's sources that GoogleTest links directly (threadleak_shim_core: options, registry,
#     /proc scanning) are instrumented for the unit tests, and the shim links a plain copy;
#   - instrumented test programs run with the plain shim preloaded, with
#     ASAN_OPTIONS=verify_asan_link_order=0 (the run script sets it): the shim's hooks then call
#     through to ASan's interceptors, which see every thread.
# Targets that cannot carry a sanitizer runtime (a statically linked test program) opt out with
# threadleak_exclude_from_sanitizers(TARGET...).

set(THREADLEAK_SANITIZE "" CACHE STRING
    "Sanitizers for the self-check build, as for -fsanitize= (e.g. address,undefined); empty: none")

function(threadleak_exclude_from_sanitizers)
  set_property(GLOBAL APPEND PROPERTY THREADLEAK_UNSANITIZED_TARGETS ${ARGN})
endfunction()

if(NOT THREADLEAK_SANITIZE)
  return()
endif()

set(THREADLEAK_SANITIZER_COMPILE_FLAGS
    -fsanitize=${THREADLEAK_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
set(THREADLEAK_SANITIZER_LINK_FLAGS -fsanitize=${THREADLEAK_SANITIZE})
# Directory-wide: every target defined after this include gets them; the shim's are removed at
# the end of the configure step (below).
add_compile_options(${THREADLEAK_SANITIZER_COMPILE_FLAGS})
add_link_options(${THREADLEAK_SANITIZER_LINK_FLAGS})
message(STATUS "threadleak: sanitizers ${THREADLEAK_SANITIZE} (the preloaded shim stays plain)")

# Removes the sanitizer flags from the compile and link options of `target`.
function(_threadleak_strip_sanitizers target)
  foreach(property COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(options ${target} ${property})
    if(options)
      list(REMOVE_ITEM options ${THREADLEAK_SANITIZER_COMPILE_FLAGS}
           ${THREADLEAK_SANITIZER_LINK_FLAGS})
      set_property(TARGET ${target} PROPERTY ${property} ${options})
    endif()
  endforeach()
endfunction()

# Every target defined in `directory` and below, into `out`.
function(_threadleak_all_targets directory out)
  get_property(targets DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirectories DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    _threadleak_all_targets("${subdirectory}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# Whether `target` asks for a sanitizer of its own (a ThreadSanitizer benchmark): ours would
# conflict with it.
function(_threadleak_has_own_sanitizer target out)
  set(own FALSE)
  foreach(property COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(options ${target} ${property})
    if(options)
      list(REMOVE_ITEM options ${THREADLEAK_SANITIZER_COMPILE_FLAGS}
           ${THREADLEAK_SANITIZER_LINK_FLAGS})
      if(options MATCHES "-fsanitize=")
        set(own TRUE)
      endif()
    endif()
  endforeach()
  set(${out} ${own} PARENT_SCOPE)
endfunction()

# Runs once every CMakeLists.txt has been read, when all targets exist.
function(_threadleak_finish_sanitizers)
  if(NOT TARGET threadleak OR NOT TARGET threadleak_shim_core)
    message(FATAL_ERROR "cmake/Sanitizers.cmake: the shim's targets were renamed")
  endif()
  # A plain copy of threadleak_shim_core for the shim, built like the original.
  get_target_property(sources threadleak_shim_core SOURCES)
  get_target_property(source_dir threadleak_shim_core SOURCE_DIR)
  set(absolute_sources "")
  foreach(source IN LISTS sources)
    if(IS_ABSOLUTE "${source}")
      list(APPEND absolute_sources "${source}")
    else()
      list(APPEND absolute_sources "${source_dir}/${source}")
    endif()
  endforeach()
  add_library(threadleak_shim_core_plain STATIC ${absolute_sources})
  foreach(property COMPILE_OPTIONS COMPILE_DEFINITIONS INCLUDE_DIRECTORIES
          INTERFACE_INCLUDE_DIRECTORIES POSITION_INDEPENDENT_CODE)
    get_target_property(value threadleak_shim_core ${property})
    if(value)
      set_property(TARGET threadleak_shim_core_plain PROPERTY ${property} "${value}")
    endif()
  endforeach()
  _threadleak_strip_sanitizers(threadleak_shim_core_plain)

  get_target_property(shim_libraries threadleak LINK_LIBRARIES)
  list(TRANSFORM shim_libraries REPLACE "^threadleak_shim_core$" threadleak_shim_core_plain)
  set_property(TARGET threadleak PROPERTY LINK_LIBRARIES "${shim_libraries}")
  _threadleak_strip_sanitizers(threadleak)

  get_property(unsanitized GLOBAL PROPERTY THREADLEAK_UNSANITIZED_TARGETS)
  _threadleak_all_targets("${CMAKE_SOURCE_DIR}" all_targets)
  foreach(target IN LISTS all_targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY")
      continue()
    endif()
    _threadleak_has_own_sanitizer(${target} own)
    if(own OR target IN_LIST unsanitized)
      _threadleak_strip_sanitizers(${target})
      # What it links of the shim's parts (the wrapper's launcher: the option parser) is plain too.
      get_target_property(libraries ${target} LINK_LIBRARIES)
      if(libraries)
        list(TRANSFORM libraries REPLACE "^threadleak_shim_core$" threadleak_shim_core_plain)
        set_property(TARGET ${target} PROPERTY LINK_LIBRARIES "${libraries}")
      endif()
    endif()
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _threadleak_finish_sanitizers)
