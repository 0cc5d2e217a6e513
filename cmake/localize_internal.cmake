# Makes the engine's internal symbols local in a partially linked object:
#   cmake -DOBJ=deltallm.o -DREADELF=readelf -DOBJCOPY=objcopy -P localize_internal.cmake
#
# Localized: every defined GLOBAL/WEAK symbol of hidden visibility (all of
# the engine: the sources are compiled with -fvisibility=hidden) EXCEPT those
# in COMDAT sections (inline functions and template instantiations). A COMDAT
# group can be dropped at link time in favour of an identical group of the
# program (e.g. its own nlohmann::json or std::stringbuf instantiation); our
# references must then resolve to that copy, which works only while the
# symbol stays global. Those symbols are ODR-identical copies, so sharing them
# is harmless; everything else (dllm::Model::load, ...) becomes invisible.
# COMDAT entities of our own types (names containing "4dllm", as in
# _ZN4dllm5ErrorD2Ev or std::vector<dllm::BatchEntry>, or deltallm_* structs)
# are localized too: no other object can hold a group of that name, so our
# copy is always the one kept.
foreach(v OBJ READELF OBJCOPY)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "localize_internal.cmake: -D${v}=... is required")
  endif()
endforeach()

execute_process(COMMAND ${READELF} -SW ${OBJ} OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -S ${OBJ} failed")
endif()
# Sections with the G (group member) flag: g_<index> is defined for each.
string(REPLACE "\n" ";" lines "${sections}")
foreach(line IN LISTS lines)
  # "  [Nr] Name Type Address Off Size ES Flg Lk Inf Al"; Flg may be empty.
  if(line MATCHES "^ *\\[ *([0-9]+)\\] +[^ ]+ +[A-Z_0-9]+ +[0-9a-f]+ +[0-9a-f]+ +[0-9a-f]+ +[0-9a-f]+ +([A-Za-z]*) +[0-9]+ +[0-9]+ +[0-9]+ *$")
    set(index "${CMAKE_MATCH_1}")  # saved: the next MATCHES resets CMAKE_MATCH_*
    if(CMAKE_MATCH_2 MATCHES "G")
      set(g_${index} 1)
    endif()
  endif()
endforeach()

execute_process(COMMAND ${READELF} -sW ${OBJ} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -s ${OBJ} failed")
endif()
set(out "")
set(n 0)
string(REPLACE "\n" ";" lines "${symbols}")
foreach(line IN LISTS lines)
  # "   Num:    Value          Size Type    Bind   Vis      Ndx Name"
  if(line MATCHES "^ *[0-9]+: +[0-9a-f]+ +[0-9]+ +[A-Z_]+ +(GLOBAL|WEAK) +HIDDEN +([0-9]+) +([^ ]+)$")
    set(name "${CMAKE_MATCH_3}")
    if(NOT DEFINED g_${CMAKE_MATCH_2} OR name MATCHES "4dllm|deltallm_")
      string(APPEND out "${name}\n")
      math(EXPR n "${n} + 1")
    endif()
  endif()
endforeach()
file(WRITE ${OBJ}.localize "${out}")
execute_process(COMMAND ${OBJCOPY} --localize-symbols=${OBJ}.localize ${OBJ} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "objcopy --localize-symbols failed on ${OBJ}")
endif()
message(STATUS "localized ${n} internal symbols of ${OBJ}")
