//! The whole scale-out path on this machine, as Kubernetes runs it:
//! `benches/local_shards.sh` starts one `loadline target`, three shard
//! processes (each with `JOB_COMPLETION_INDEX`, `--shard auto/3`, one T0 and
//! one run id), each in its own network namespace reaching the target over a
//! veth and a bridge, then `merge --wait` (started before the shards finish)
//! and `gate`; then a shard killed with SIGKILL: merge refuses the run naming
//! it (exit 2), `--allow-partial` merges the rest, the gate calls it
//! inconclusive. Where `ip netns` is not available (not root, no
//! CAP_NET_ADMIN) the script says why and runs the same steps on loopback,
//! and this test prints that reason: the loopback variant is still checked.

use std::process::Command;

use crate::support::*;

#[test]
fn local_shards_merge_and_gate_as_an_indexed_job() {
    let s = Scratch::new();
    let out = Command::new("bash")
        .arg(root().join("benches/local_shards.sh"))
        .env("LL", env!("CARGO_BIN_EXE_loadline"))
        .env("WORK", s.path("work"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run bash benches/local_shards.sh");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "local_shards.sh exited {:?}\n{text}\n{err}",
        out.status
    );

    let mode = text.lines().last().unwrap_or_default();
    if let Some(reason) = mode.strip_prefix("MODE loopback") {
        eprintln!(
            "local_shards: network namespaces skipped, ran on loopback instead: {}",
            reason.trim()
        );
    } else {
        assert_eq!(mode, "MODE netns", "{text}");
        // Every namespace the script made is gone again.
        let tag = text
            .split("namespaces ")
            .nth(1)
            .and_then(|t| t.split("-s0").next())
            .expect("the network line names the namespaces");
        let list = Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("ip netns list");
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(!list.contains(&format!("{tag}-s")), "namespaces left behind:\n{list}");
        assert!(text.contains("shards send to http://10.200."), "{text}");
    }
    for want in [
        "merge --wait started while the shards wait for T0",
        "every shard exited 0",
        "merged: run local-ok, shards [0, 1, 2] of 3, missing [], partial false",
        "verdict: promote pass=",
        "merge without --allow-partial exited 2",
        "killed/shard-2: this shard did not finish",
        "merged: run local-killed, shards [0, 1] of 3, missing [2], partial true",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    // The whole run: nothing inconclusive; the partial one: something is.
    let verdicts: Vec<&str> = text.lines().filter(|l| l.starts_with("== verdict: ")).collect();
    assert_eq!(verdicts.len(), 2, "{text}");
    assert!(verdicts[0].contains(" inconclusive=0 "), "{text}");
    assert!(!verdicts[1].contains(" inconclusive=0 "), "{text}");
}
