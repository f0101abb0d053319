# Installs libstarnn as a CMake package, so that another project embeds it with
#   find_package(starnn 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE starnn::starnn)
# (starnn::nets for the nets alone, starnn::report for the figures as well)
# Installed: the public headers (include/nn), the library (lib/) and the package files
# (lib/cmake/starnn). The `starnn` program installs itself, into bin/, with the install rule
# next to its target in apps/CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(STARNN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/starnn)

# Destinations are GNUInstallDirs' defaults: lib/ for the library and its soname links.
# No INSTALL_RPATH: the library's own dependencies (OpenBLAS through Debian's alternatives,
# CFITSIO, libgomp) are in the system's library path, and a consumer that links the imported
# target gets <prefix>/lib in its build RPATH because CMake links it by full path. A consumer
# that installs itself, or runs outside CMake, must find <prefix>/lib at run time itself
# (INSTALL_RPATH, CMAKE_INSTALL_RPATH_USE_LINK_PATH, ldconfig or LD_LIBRARY_PATH).
install(TARGETS starnn_nets starnn EXPORT starnnTargets)
if(TARGET starnn_report)
  install(TARGETS starnn_report EXPORT starnnTargets)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/libnn/include/nn
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(EXPORT starnnTargets
  NAMESPACE starnn::
  DESTINATION ${STARNN_INSTALL_CMAKEDIR})

# A static libstarnn carries its private dependencies into the consumer's link line, so the
# package file must find them again; a shared one needs nothing from the consumer.
get_target_property(STARNN_LIBRARY_TYPE starnn_nets TYPE)
if(TARGET starnn_report)
  set(STARNN_WITH_REPORT TRUE)
else()
  set(STARNN_WITH_REPORT FALSE)
endif()
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/starnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/starnnConfig.cmake
  INSTALL_DESTINATION ${STARNN_INSTALL_CMAKEDIR})
# 0.x releases may break the API between minor versions; SameMajorVersion still lets
# find_package(starnn 0.1) refuse 0.0 and accept any later 0.y.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/starnnConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/starnnConfig.cmake
  ${PROJECT_BINARY_DIR}/starnnConfigVersion.cmake
  DESTINATION ${STARNN_INSTALL_CMAKEDIR})
