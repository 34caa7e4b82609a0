# Run by `cmake --install` (install(SCRIPT) in include/CMakeLists.txt, after an install(CODE)
# that sets THREADLEAK_PC_*): writes threadleak.pc for the prefix being installed to and
# installs it to <libdir>/pkgconfig. DESTDIR is honoured by file(INSTALL) and left out of the
# paths in the file, as packages expect.
set(THREADLEAK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR BINDIR)
  if(IS_ABSOLUTE "${THREADLEAK_PC_${dir}}")
    set(THREADLEAK_PC_${dir}_FULL "${THREADLEAK_PC_${dir}}")
  else()
    set(THREADLEAK_PC_${dir}_FULL "\${prefix}/${THREADLEAK_PC_${dir}}")
  endif()
endforeach()
configure_file("${THREADLEAK_PC_TEMPLATE}" "${THREADLEAK_PC_OUTPUT}" @ONLY)
if(IS_ABSOLUTE "${THREADLEAK_PC_LIBDIR}")
  set(pkgconfig_dir "${THREADLEAK_PC_LIBDIR}/pkgconfig")
else()
  set(pkgconfig_dir "${CMAKE_INSTALL_PREFIX}/${THREADLEAK_PC_LIBDIR}/pkgconfig")
endif()
file(INSTALL DESTINATION "${pkgconfig_dir}" TYPE FILE FILES "${THREADLEAK_PC_OUTPUT}")
