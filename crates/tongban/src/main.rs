/// mimalloc instead of glibc malloc: under load the server spent ~15 % of its CPU in the
/// allocator (lock waits between the runtime's threads, consolidation); see BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tongban::cli::main()
}
