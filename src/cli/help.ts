// --help texts: each says what the command does, shows real examples, and lists exit codes.

export const EXIT_CODES = `Exit codes:
  0  success
  2  a host failed or was unreachable (the recap names it and why)
  3  bad input found before any connection (file:line:col in the message)
  4  provision check found errors
  5  provision verify ran and the cluster did not pass
  130 interrupted (Ctrl-C); in-flight operations finished, nothing half-written`;

export const MAIN_HELP = `provision — converge Linux hosts over SSH into a keepalived + nginx HA pair, and prove it.

Usage:
  provision <inventory> [playbook]       run a playbook (default playbooks/site.yaml)
  provision check <inventory> [playbook] static checks: inventory, HA topology, roles' types (no connection)
  provision init [DIR]                   a new project: example inventory, playbook and role
  provision verify <inventory>           prove the cluster: curl every VIP, VIP ownership, VRRP adverts
  provision facts <inventory>            gather and print facts per host
  provision inventory <inventory> --list print the resolved inventory (same JSON as ansible-inventory --list)
  provision adhoc PATTERN -a ARGS        one module on matched hosts, as 'ansible PATTERN -m M -a ARGS'
  provision lab up|status|down|ssh HOST  a local lab of the reference topology (root, Linux)

Run options:
  --check               plan only: report what would change, change nothing
  --diff                show unified diffs of files that change (or would, with --check)
  --limit PATTERN       only these hosts/groups (repeatable, or comma list; !x excludes, &x intersects)
  --tags T / --skip-tags T   run only / skip tasks with these tags (roles are tags too)
  --forks N             hosts in parallel (default 10)
  -e, --extra-vars k=v | @file.yaml   highest-precedence variables (repeatable)
  --json FILE           write the machine-readable report (per host and per task)
  --host-key-checking strict|accept-new|off   default strict (off warns loudly)
  --persist SECONDS     keep the SSH connections open this long after the run, for the next
                        one (default 60, as Ansible's ControlPersist=60s; 0: log in anew each
                        run; or PROVISION_SSH_PERSIST). A background keeper holds them, in a
                        directory only you can open (/tmp/provision-ssh-UID)
  --no-read-ahead       ask every task's read-only checks live, one round trip each. By
                        default the checks a host's tasks ran last time (recorded in
                        ~/.cache/provision, never their answers) run in one round trip at the
                        start, and answer the tasks until the run first changes something
                        (or PROVISION_READ_AHEAD=0)
  -v, --verbose         print every task, not only changes
  -h, --help            this help; 'provision <command> --help' for a command

ansible-playbook's flags, same meaning (every command takes -i):
  -i, --inventory SRC   a YAML or INI file, a directory of them, or a comma list 'h1,h2,'
                        (repeatable). Without it: the positional inventory, else [defaults]
                        inventory of ansible.cfg ($ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg)
  -l, -t, -C, -D, -f    --limit, --tags, --check, --diff, --forks
  -u, --user USER       remote user where the inventory sets none
  -b, --become          sudo where the inventory does not say (--become-user: root only)
  -K, --ask-become-pass prompt for the sudo password (no echo; or PROVISION_BECOME_PASS)
  -k, --ask-pass        prompt for the SSH password (no echo)
  --private-key FILE    key for hosts whose inventory names none
  --list-hosts | --list-tasks | --list-tags | --syntax-check
                        print what ansible-playbook prints for them; nothing connects
  --start-at-task NAME  start at the first YAML task of that name
  -vvv, --version

Examples:
  provision -i hosts.ini site.yml -l web -C -D      Ansible's way: what would change on web
  provision -i hosts.ini site.yml --list-hosts      which hosts each play would touch
  provision inventory/prod.yaml --check --diff      what would change, with diffs
  provision inventory/prod.yaml --limit lb          only the load balancers
  provision inventory/lab.yaml --json report.json   converge the lab, keep a JSON report

${EXIT_CODES}`;

export const COMMAND_HELP: Record<string, string> = {
  adhoc: `Usage: provision adhoc PATTERN -a ARGS [-m MODULE] [-i INVENTORY] [-b] [-f N] [--json FILE]

Runs one module on every host PATTERN matches, in parallel (at most -f at a time), like
'ansible PATTERN -m MODULE -a ARGS'. MODULE is command (the default), shell, or any module a
YAML task may use (file, copy, lineinfile, service, package, ...), with Ansible's k=v arguments.
Prints a block per host, in inventory order:  web1 | CHANGED | rc=0 >>  then stdout, stderr.
--json FILE writes {host: {status, rc, stdout, stderr, msg}}. --check and --diff apply.

Examples:
  provision adhoc web -i hosts.ini -m shell -a 'uptime; df -h /'
  provision adhoc all -b -a 'systemctl is-active nginx' --json nginx.json
  provision adhoc db1 -b -m file -a 'path=/tmp/x state=touch'

Exit 0 when every host succeeded, 2 when one failed or was unreachable, 3 for bad input.`,
  init: `Usage: provision init [DIR]

Creates a new project in DIR (default: the current directory): inventory/hosts.yaml with one
example host, playbooks/site.yaml, roles/example (a few operations, a handler, a template),
package.json (provision from this copy, TypeScript) and tsconfig.json. Then:
  npm install && npx tsc --noEmit && npx provision check inventory/hosts.yaml`,
  inventory: `Usage: provision inventory [-i] <inventory> --list

Prints the resolved inventory as JSON, the same shape as 'ansible-inventory -i <inventory> --list':
groups with hosts/children and _meta.hostvars with every host's merged variables
(group_vars/ and host_vars/ beside the inventory included).

${EXIT_CODES}`,
  facts: `Usage: provision facts <inventory> [--limit PATTERN] [--json]

Connects to each host and prints its facts: OS, package manager, interfaces with addresses,
SELinux, firewall backend, virtualization, keepalived version. --json prints one JSON object
keyed by host name.

${EXIT_CODES}`,
  check: `Usage: provision check <inventory> [--show] [--json]

Validates the inventory and the derived HA topology without connecting to anything: VRIDs,
priorities (ties and who would win), passwords (keepalived cuts PASS at 8 characters), VIPs
inside their subnets, multicast group, backends. --json prints the findings as a JSON array.
--show also prints the HA plan: per network and VIP the VRID, the master and the backups in
priority order, the tracking of nginx, the advert interval and the failover times to expect
(nginx dies, keepalived stops, power off), read from the data keepalived.conf is rendered
from; with --json the output is {findings, plan}. A '--check' run prints the plan too, with
each load balancer's tracking method chosen from its facts.
Exit 0 when there are no errors (warnings allowed), 4 when there are.

${EXIT_CODES}`,
  verify: `Usage: provision verify <inventory> [--failover] [--json FILE] [--html FILE]

Proves the cluster works: (1) curls every VIP from a probe host on its network, (2) checks each
VIP is held by exactly one node, the intended master, (3) captures VRRP adverts with tcpdump:
each VRID advertised by exactly one source with the intended priority, (4) prints a summary.
--failover also kills nginx on each LB in turn and measures the client-observed gap per VIP.
--json FILE writes the report (with --failover: every probe request with its timestamps, the
LBs' VRRP state changes from keepalived's log). --html FILE writes the same as one
self-contained page (no script, nothing fetched): the topology with each VIP at the node
holding it and each VRID's advertiser as captured, the HA plan, per VIP the failover and
preemption timelines, and the checks.

${EXIT_CODES}`,
  lab: `Usage: provision lab up | status | down | ssh HOST
       provision lab up --vagrant [HOST...] | down --vagrant

A local lab of the reference topology on this Linux machine (run as root): six Debian 12
containers (systemd-nspawn) in their own network namespaces, on two bridged networks
(internal 10.16.8.0/24, external 172.16.8.0/24), reachable only through SSH ports
forwarded on 127.0.0.1. 'up' writes inventory/lab.yaml.

  up      build or resume the lab (idempotent)
  status  each host: state, addresses, SSH port
  down    stop and remove everything up made
  ssh     an interactive shell on a lab host

--vagrant: the same topology as Vagrant VMs (libvirt + QEMU) from ./Vagrantfile, with a
Debian 12 box built here; libvirt and the VMs' networks live in namespace lab-vagrant, SSH is
forwarded on 127.0.0.1:2222..2227. 'up' (optionally only some HOSTs) writes
inventory/vagrant-lab.yaml; 'status' shows the VMs too.

${EXIT_CODES}`,
};
