# `cmake --install`: the header, both libraries, and a package config so that
# `find_package(gtest_watchdog CONFIG REQUIRED)` gives gtest_watchdog:: targets
# (CONTRACT.md). A build-tree export too, for find_package on a build tree.
include(CMakePackageConfigHelpers)

set(GTEST_WATCHDOG_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/gtest_watchdog")

install(TARGETS gtest_watchdog gtest_watchdog_main
  EXPORT gtest_watchdog-targets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/gtest_watchdog/gtest_watchdog.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/gtest_watchdog")
install(EXPORT gtest_watchdog-targets
  NAMESPACE gtest_watchdog::
  DESTINATION "${GTEST_WATCHDOG_CMAKE_DIR}")
export(EXPORT gtest_watchdog-targets
  NAMESPACE gtest_watchdog::
  FILE "${PROJECT_BINARY_DIR}/gtest_watchdog-targets.cmake")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/gtest_watchdog-config.cmake.in"
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config.cmake"
  INSTALL_DESTINATION "${GTEST_WATCHDOG_CMAKE_DIR}")
# 0.x: a minor version may break; from 1.0 on, SameMajorVersion holds.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config-version.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config.cmake"
  "${PROJECT_BINARY_DIR}/gtest_watchdog-config-version.cmake"
  DESTINATION "${GTEST_WATCHDOG_CMAKE_DIR}")
