# xph finds its own files in <directory of its executable>/../share/xph, in
# the build tree and once installed alike (never through a source path
# compiled in). In the build tree the binaries live in build/harness and
# build/mock_server, so build/share/xph links to the sources.
set(XPH_DATA_DIR ${CMAKE_BINARY_DIR}/share/xph)
file(MAKE_DIRECTORY ${XPH_DATA_DIR})
foreach(link IN ITEMS scenarios=scenarios sut=fixtures/sut python=harness/python regressions=fixtures/regressions)
  string(REPLACE "=" ";" parts ${link})
  list(GET parts 0 name)
  list(GET parts 1 source)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${source} ${XPH_DATA_DIR}/${name} SYMBOLIC)
endforeach()
file(CREATE_LINK ${CMAKE_BINARY_DIR}/third_party ${XPH_DATA_DIR}/third_party SYMBOLIC)

install(TARGETS xph oaimock xph-refsut RUNTIME DESTINATION bin)
install(DIRECTORY scenarios/ DESTINATION share/xph/scenarios)
install(DIRECTORY fixtures/regressions/ DESTINATION share/xph/regressions)
install(DIRECTORY fixtures/sut/ DESTINATION share/xph/sut PATTERN __pycache__ EXCLUDE PATTERN README.md EXCLUDE)
install(DIRECTORY harness/python/ DESTINATION share/xph/python PATTERN __pycache__ EXCLUDE)

# A Debian package of the same tree: `cpack -G DEB` in the build folder.
set(CPACK_PACKAGE_NAME xph)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "xph maintainers <xph@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "reproduce and judge errors that cannot cross a process boundary in LLM security scanners")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libcpp-httplib0.11, libboost-filesystem1.81.0, python3, python3-httpx, python3-backoff")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_GENERATOR DEB)
include(CPack)
