//! The manual pages, made from the command line's own definition (clap_mangen) when the package
//! is built (`lonceng-server manpages DIR`, hidden): `man lonceng-server` and `man lonceng-admin`
//! say what `--help` says, with no second text to keep in step.

use std::path::Path;

/// Writes `lonceng-server.1` and `lonceng-admin.8` (the same commands, run by root as the
/// service's user) into `dir`.
pub fn write(server: clap::Command, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    render(server.clone(), "1", &dir.join("lonceng-server.1"))?;
    let admin = server
        .name("lonceng-admin")
        .bin_name("lonceng-admin")
        .about("Run the Lonceng server's administrative commands as its service user")
        .long_about(
            "lonceng-admin runs lonceng-server's administrative commands (issue-token, qontak-secret, \
             link-agent, import-agents, devices, disable-user, audit, export-agents) as the lonceng \
             user, with the service's configuration from /etc/lonceng/server.env. Run it as root, \
             e.g. sudo lonceng-admin devices list agent-sari. The options below are those of \
             lonceng-server; the configuration file sets them.",
        );
    render(admin, "8", &dir.join("lonceng-admin.8"))
}

fn render(command: clap::Command, section: &'static str, path: &Path) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command).section(section).render(&mut page)?;
    std::fs::write(path, page)
}
