//! snledger: the command line. Everything lives in the library (`lib.rs`).

fn main() {
    let code = snledger::main_exit_code();
    if code != 0 {
        std::process::exit(code);
    }
}
