use std::process::ExitCode;

fn main() -> ExitCode {
    match magsync::cli::main() {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("magsync: error: {e:#}");
            ExitCode::from(magsync::base::Exit::Failed as u8)
        }
    }
}
