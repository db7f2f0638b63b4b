"""The lines a failed VM test prints of its nodes' journals and consoles."""

from sanappliance.lab.digest import console_end, host_line, notable

JOURNAL = """\
[ 1201.1] node2 pacemaker-controld[812]: notice: Initiating monitor operation san-dlm_monitor_10000 on node1
[ 1202.2] node2 pacemaker-controld[812]: notice: Result of start operation for san-s1-vg on node2: ok
[ 1203.3] node2 pacemaker-controld[812]: notice: Result of monitor operation for san-dlm on node1: Timed Out after 20s
[ 1204.4] node2 pacemaker-schedulerd[811]: notice: Actions: Recover    san-dlm:0      ( node1 )
[ 1205.5] node2 pacemaker-schedulerd[811]: warning: Cluster node node1 will be fenced: san-dlm failed there
[ 1206.6] node2 sbd[500]: warning: inquisitor_child: Latency: No liveness for 4 s exceeds watchdog warning timeout
[ 1207.7] node2 pacemaker-fenced[809]: notice: Operation 'reboot' targeting node1 by node2 for pacemaker-controld: OK
[ 1208.8] node2 corosync[700]: [TOTEM ] Token has not been received in 7500 ms
[ 1209.9] node2 LVM-activate(san-s1-vg)[990]: ERROR: lvmlockd is not running
[ 1210.0] node2 systemd[1]: Started session-12.scope.
[ 1211.1] node2 kernel: INFO: task kworker/0:1:45 blocked for more than 120 seconds.
"""


def test_notable_keeps_failures_fencing_and_membership_and_drops_routine_lines():
    lines = notable(JOURNAL, 20)
    kept = [line.split("] ", 1)[0] for line in lines]
    assert kept == ["[ 1203.3", "[ 1204.4", "[ 1205.5", "[ 1206.6", "[ 1207.7", "[ 1208.8", "[ 1209.9", "[ 1211.1"]


def test_notable_keeps_the_last_ones():
    assert notable(JOURNAL, 2) == JOURNAL.splitlines()[-3:-2] + JOURNAL.splitlines()[-1:]
    assert notable("", 5) == []


def test_console_end_drops_escapes_carriage_returns_and_blank_lines():
    console = "boot\r\n\x1b[0;32m  OK  \x1b[0m] Started sbd\r\n\r\n[ 900.1] sysrq: Resetting\r\n"
    assert console_end(console, 2) == ["  OK  ] Started sbd", "[ 900.1] sysrq: Resetting"]
    assert console_end(console, 10)[0] == "boot"


def test_secrets_and_the_guest_agents_echo_of_test_commands_are_left_out():
    journal = ("[ 55.5] node1 qemu-ga[355]: info: guest-exec called: \"sanctl create userid=u password=p ERROR:\"\n"
               "[ 55.9] node1 LVM-activate[404]: ERROR: VG not found\n"
               "[ 56.0] node1 targetd[77]: error: password=hunter2 rejected\n"
               "[ 18.5] node1 kernel: NMI watchdog: Perf NMI watchdog permanently disabled\n")
    assert notable(journal, 10) == ["[ 55.9] node1 LVM-activate[404]: ERROR: VG not found"]
    console = "*** sanappliance API user admin, password: HTuRh\nroot@node1:~# \n"
    assert console_end(console, 5) == ["root@node1:~# "]


def test_host_line_names_the_load_and_the_busiest_processes():
    ps = ("%CPU ELAPSED COMMAND\n 87.8    2770 sh\n 66.7     615 qemu-system-x86\n  6.7     616 python\n"
          "  0.3    3209 kdamond.0\n")
    line = host_line("3.41 2.90 2.11 5/301 4242\n", ps, top=3)
    assert line == ("host: load average 3.41 2.90 2.11; busiest: sh 87.8% for 46 min, "
                    "qemu-system-x86 66.7% for 10 min, python 6.7% for 10 min")
