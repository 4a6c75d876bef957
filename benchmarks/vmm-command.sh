# Sourced by the benchmarks: sets the array `vmm` to the java command ./vmm execs (the JVM's options
# from jvm.options), for a copy of the jar (JAR), so that editing the tree during a sitting cannot
# rebuild it mid-way.
#   vmm_command JAR
vmm_command() {
  mapfile -t jvm_options < <(grep -v '^#' jvm.options)
  vmm=(java "${jvm_options[@]}" -jar "$1")
}
