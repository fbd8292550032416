# Unpacks the third-party source archives (shared/third_party/*.tar.xz: real
# garak, openai-python, typing_extensions, xdg-base-dirs) into
# ${CMAKE_BINARY_DIR}/third_party/<archive name>/, at configure time, for the
# tests and built-in SUTs that run against the real thing. Never copied into
# the repository: this is the only place they are unpacked.
#
#   XPH_THIRD_PARTY_DIR      where the archives are (default ../shared/third_party)
#   XPH_THIRD_PARTY_ROOT     (set here) ${CMAKE_BINARY_DIR}/third_party
#   XPH_THIRD_PARTY_TREES    (set here) the unpacked folders, one per archive
#
# Each archive is unpacked once: a stamp holds its SHA-256, and a changed
# archive (or a deleted tree) is unpacked afresh; the archives are configure
# dependencies, so changing one re-runs cmake. Absent folder: a status line,
# nothing else (the real-garak tests then do not exist).

set(XPH_THIRD_PARTY_DIR "${PROJECT_SOURCE_DIR}/../shared/third_party" CACHE PATH
    "folder of third-party source archives (*.tar.xz) the real-garak tests unpack")
set(XPH_THIRD_PARTY_ROOT "${CMAKE_BINARY_DIR}/third_party")
set(XPH_THIRD_PARTY_TREES "")

file(GLOB _xph_archives "${XPH_THIRD_PARTY_DIR}/*.tar.xz")
if(NOT IS_DIRECTORY "${XPH_THIRD_PARTY_DIR}" OR NOT _xph_archives)
  message(STATUS "third_party: no archives in ${XPH_THIRD_PARTY_DIR}; real-garak tests skipped")
  return()
endif()

# Python reads .pyc files even under PYTHONDONTWRITEBYTECODE (it only stops
# writing them): compiling once here takes a fifth off every garak case's start.
find_program(XPH_SYSTEM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)

file(MAKE_DIRECTORY "${XPH_THIRD_PARTY_ROOT}")
foreach(_archive IN LISTS _xph_archives)
  get_filename_component(_name "${_archive}" NAME)
  string(REGEX REPLACE "\\.tar\\.xz$" "" _name "${_name}")
  set(_tree "${XPH_THIRD_PARTY_ROOT}/${_name}")
  set(_stamp "${XPH_THIRD_PARTY_ROOT}/${_name}.stamp")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_archive}")

  file(SHA256 "${_archive}" _hash)
  set(_stamped "")
  if(EXISTS "${_stamp}")
    file(READ "${_stamp}" _stamped)
  endif()
  if(NOT _stamped STREQUAL _hash OR NOT IS_DIRECTORY "${_tree}")
    message(STATUS "third_party: unpacking ${_name}")
    file(REMOVE_RECURSE "${_tree}" "${_stamp}")
    # git archive --prefix=<name>/: the archive holds the one folder
    file(ARCHIVE_EXTRACT INPUT "${_archive}" DESTINATION "${XPH_THIRD_PARTY_ROOT}")
    if(NOT IS_DIRECTORY "${_tree}")
      message(FATAL_ERROR "third_party: ${_archive} did not unpack to ${_tree}")
    endif()
    if(XPH_SYSTEM_PYTHON3)
      execute_process(COMMAND "${XPH_SYSTEM_PYTHON3}" -m compileall -q -j 2 "${_tree}"
                      OUTPUT_QUIET ERROR_QUIET)  # best effort: a tree that fails to compile still runs
    endif()
    file(WRITE "${_stamp}" "${_hash}")
  endif()
  list(APPEND XPH_THIRD_PARTY_TREES "${_tree}")
endforeach()
list(LENGTH XPH_THIRD_PARTY_TREES _count)
message(STATUS "third_party: ${_count} tree(s) in ${XPH_THIRD_PARTY_ROOT}")
