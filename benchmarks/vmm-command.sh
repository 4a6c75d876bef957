# Sourced by the benchmarks: sets the array `vmm` to the java command ./vmm execs, for a copy of the
# jar (JAR; so that editing the tree during a sitting cannot rebuild it mid-way): the JVM's options
# from jvm.options, the compilers ./vmm picks for `run` with --translate MODE (C1 only for off), and a
# class-data archive made for that copy, as ./vmm makes one for its jar.
#   vmm_command JAR [MODE]
vmm_command() {
  local jar=$1 jsa=${1%.jar}.jsa mode=${2:-on}
  mapfile -t jvm_options < <(grep -v '^#' jvm.options)
  java "${jvm_options[@]}" -XX:ArchiveClassesAtExit="$jsa" -jar "$jar" run --time-limit 20000000i </dev/null >/dev/null 2>&1 || true
  vmm=(java "${jvm_options[@]}")
  [ "$mode" = off ] && vmm+=(-XX:TieredStopAtLevel=1)
  [ -s "$jsa" ] && vmm+=(-XX:SharedArchiveFile="$jsa" -Xlog:cds=off,cds+dynamic=off)
  vmm+=(-jar "$jar")
}
