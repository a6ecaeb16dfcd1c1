"""Every one-line error a command can print, and what to do about it: the table behind
docs/troubleshooting.md (``python tools/troubleshooting_docs.py`` writes it) and behind
the errors themselves: a message without its "what to do" part gets the table's
(:func:`with_fix`), so each error reads ``cta-X: error: <what>; <what to do>``.

A test scans every ``raise`` of the project's errors and fails when one has no row here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Trouble:
    """One error: as printed (``<...>`` stands for a value), by which commands, its
    usual cause and what to do."""

    message: str
    commands: str
    cause: str
    fix: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The message's fixed words, anything in place of each ``<...>``."""
        fixed = self.message.split("; ")[0].split(" (or: ")[0]
        parts = re.split(r"<[^>]*>", fixed)
        return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


_STACK_UP = "start the local stack with `cta-stack up`"
_ANY_KAFKA = "cta-sim, cta-weather, cta-jobs faust/predict, cta-tui, cta-tui tail"

TROUBLES: tuple[Trouble, ...] = (
    # ------------------------------------------------------------ services not reachable
    Trouble(
        f"Kafka at <servers> is not reachable (<cause>); {_STACK_UP}",
        _ANY_KAFKA,
        "Nothing answers at the bootstrap servers (the stack is down, or the wrong "
        "`--bootstrap-servers` / `CTA_BOOTSTRAP_SERVERS`); commands wait `--broker-wait` "
        "seconds (`CTA_BROKER_WAIT`, default 15) first.",
        "`cta-stack up` (or `make demo`); `cta-stack status` shows what runs. For a remote "
        "cluster check the servers and the SASL/TLS flags.",
    ),
    Trouble(
        f"Schema Registry at <url> is not reachable (<cause>); {_STACK_UP}",
        "cta-sim, cta-jobs faust/predict, cta-tui",
        "The registry is down or `--schema-registry-url` is wrong; Avro records cannot be "
        "written or read without it.",
        "`cta-stack up` starts it; `cta-stack logs schema-registry` shows why it stopped.",
    ),
    Trouble(
        f"REST Proxy at <url> is not reachable (<cause>); {_STACK_UP}",
        "cta-weather, cta-sim (weather)",
        "The REST Proxy is down or `--rest-proxy-url` is wrong.",
        "`cta-stack up`; or run the simulator with `--no-weather`.",
    ),
    Trouble(
        f"Kafka Connect at <url> is not reachable (<cause>); {_STACK_UP} (or `docker compose up -d connect`)",
        "cta-jobs connector, cta-jobs setup",
        "The Connect worker is down or still starting, or `--connect-url` is wrong.",
        "`cta-stack up` (Connect takes ~20 s to start); `cta-stack logs connect`.",
    ),
    Trouble(
        "ksqlDB at <url> is not reachable (<cause>); start ksqlDB with "
        "`docker compose up -d ksqldb-server` (the local stack has none: use `cta-jobs faust`)",
        "cta-jobs ksql",
        "The local stack has no ksqlDB: the Faust worker computes TURNSTILE_SUMMARY instead.",
        "Use `cta-jobs faust` (what `cta-tui up` runs), or the docker-compose stack.",
    ),
    Trouble(
        f"PostgreSQL at <dsn, password masked> is not reachable (<cause>); {_STACK_UP}",
        "cta-jobs load-stations, cta-jobs setup",
        "PostgreSQL is down or `--postgres-dsn` / `CTA_POSTGRES_DSN` is wrong.",
        "`cta-stack up` starts the embedded PostgreSQL; for your own server check the DSN.",
    ),
    Trouble(
        "the SSH server's shared feed at <path> is not reachable (<cause>); restart `cta-tui serve`",
        "a dashboard session of cta-tui serve",
        "The SSH server that feeds the session stopped.",
        "Restart `cta-tui serve`, then log in again.",
    ),
    # ------------------------------------------------------------ refusals (credentials, ACLs)
    Trouble(
        "Kafka at <servers> refused User:<name>: authentication failed (<mechanism>: wrong user "
        "name or password, or no such user); check sasl.username and sasl.password in the client "
        "config (--client-config)",
        _ANY_KAFKA + ", the Schema Registry and REST Proxy of the local stack",
        "The broker's SASL exchange failed: the password (or user name) in the client config "
        "file, `--sasl-password` or `CTA_SASL_PASSWORD` is not the one the cluster knows. The "
        "command stops at once; a long-running job logs this line and stops.",
        "Fix the client config file (`sasl.username`, `sasl.password` or `sasl.jaas.config`); on "
        "the secured local stack each principal's file is in `<stack dir>/secure/clients/`.",
    ),
    Trouble(
        "Kafka at <servers> refused an anonymous client (it closed every connection: the listener "
        "needs credentials or TLS); give them with --client-config FILE (security.protocol, "
        "sasl.mechanism, sasl.username, sasl.password)",
        _ANY_KAFKA,
        "The cluster's listener is SASL or TLS and this client came without credentials (no "
        "`--client-config`, no `CTA_CLIENT_CONFIG`), so the broker closed each connection.",
        "Give the client its principal's client config file: `--client-config FILE` or "
        "`CTA_CLIENT_CONFIG=FILE`.",
    ),
    Trouble(
        "Kafka refused <principal> <operation> on <topic|group|the cluster|transactional id> "
        "<name> (<CODE>_AUTHORIZATION_FAILED); grant it with an ACL (cta-stack acls lists what "
        "each principal needs) or use this job's own principal",
        _ANY_KAFKA,
        "The principal authenticated but its ACLs do not allow the operation (e.g. the "
        "dashboard writing TURNSTILE_SUMMARY, which only Faust may write). Nothing is retried: "
        "the command exits 1, a long-running job logs the line and stops.",
        "Run the job with its own principal's client config, or add the ACL the line names "
        "(cta-stack acls prints what each principal needs).",
    ),
    Trouble(
        "<Schema Registry|REST Proxy> at <url> refused <user 'name'|a client without credentials> "
        "(HTTP <401|403>: <why>); check its basic.auth.user.info in the client config (--client-config)",
        "cta-sim, cta-weather, cta-jobs faust/predict, cta-tui",
        "The registry or REST Proxy asks for HTTP basic auth and the user or password sent (from "
        "`basic.auth.user.info` / `rest.proxy.basic.auth.user.info`) is missing or wrong.",
        "Put `user:password` in the client config file (`schema.registry.basic.auth.user.info`, "
        "`rest.proxy.basic.auth.user.info`), and its CA in `*.ssl.ca.location` for HTTPS.",
    ),
    Trouble(
        "invalid value for '--client-config' (env var: 'CTA_CLIENT_CONFIG'): <file> line <n>: "
        "<what> (or: <file>: no such file, cannot read it ...)",
        "every command that talks to Kafka, the registry or the REST Proxy (exit 2)",
        "The client config file (`--client-config`, `CTA_CLIENT_CONFIG`) is missing, unreadable, "
        "or has a line that is not `key=value` (or a `sasl.jaas.config` / truststore it cannot use).",
        "Fix the line the message names; the format is Kafka's properties (as `kcat -F` reads).",
    ),
    # ------------------------------------------------------------ topics
    Trouble(
        "topic '<name>' does not exist on <servers>; list the topics with `cta-tui tail --list`",
        "cta-tui tail",
        "A typo, or the topic's producer has not run yet (topics are created by their producers).",
        "`cta-tui tail -L` lists the topics.",
    ),
    Trouble(
        "topic '<name>' has no partition <n>; its partitions are <list>",
        "cta-tui tail -p",
        "`-p` names a partition the topic does not have.",
        "Pick one of the partitions listed, or leave `-p` out to read them all.",
    ),
    # ------------------------------------------------------------ rewind
    Trouble(
        "<time> is before the earliest moment held for run <run>; the earliest it can show is <HH:MM>",
        "cta-tui --at, the dashboard's rewind keys",
        "The moment asked for is before the run began, or its status records (kept a day) "
        "or its events have passed the topics' retention.",
        "Pick a moment at or after the one named; `cta-tui runs` shows each run's simulated span.",
    ),
    Trouble(
        "no simulator run found on the status topic; start one with `cta-sim`",
        "cta-tui --at, cta-tui runs, the dashboard's rewind keys",
        "The simulator's status topic holds no run: none ran within its retention (a day).",
        "Start the simulator (`cta-sim`, or `cta-tui up`); rewinding reaches back to when it began.",
    ),
    Trouble(
        "no run <run> on the status topic (runs held: <ids>); `cta-tui runs` lists them",
        "cta-tui --at --run",
        "A mistyped run id, or a run older than the status topic's retention.",
        "`cta-tui runs` lists the runs that can be shown.",
    ),
    Trouble(
        "reading the past timed out after <seconds> s (<n> records read); check that Kafka answers",
        "cta-tui --at, the dashboard's rewind keys",
        "Kafka stopped answering while a past moment was read, or the window is far larger than usual.",
        "`cta-stack status`; try again, or a moment closer to the present.",
    ),
    # ------------------------------------------------------------ the local stack
    Trouble(
        "no logs yet in <dir>; start the stack with `cta-stack up`",
        "cta-stack logs",
        "This stack directory has never been started (`--stack-dir`, `CTA_STACK_DIR`).",
        "`cta-stack up`, or point `--stack-dir` at the stack you mean.",
    ),
    Trouble(
        "Java <n>+ is needed for Kafka and Kafka Connect but no `java` was found (<how to install>)",
        "cta-stack up, cta-tui up",
        "The local stack runs Kafka and Connect on a JVM.",
        "Install a JDK 17+ (`apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.",
    ),
    Trouble(
        "could not run `<java> -version`: <cause>",
        "cta-stack up, cta-tui up",
        "The `java` found is broken or not executable.",
        "Fix or reinstall the JDK; set JAVA_HOME to a working one.",
    ),
    Trouble(
        "could not read the Java version from `<java> -version`: <output>",
        "cta-stack up, cta-tui up",
        "The `java` found prints an unexpected version line.",
        "Point JAVA_HOME at a standard JDK 17+.",
    ),
    Trouble(
        "Java <version> at <java> is too old: Kafka <n>+ is needed (install a newer JDK or "
        "point JAVA_HOME at one)",
        "cta-stack up, cta-tui up",
        "Kafka needs Java 17 or newer.",
        "Install a newer JDK or point JAVA_HOME at one.",
    ),
    Trouble(
        "Maven (`mvn`) is needed once to fetch the Kafka and Debezium jars but was not found "
        "(install it, e.g. `apt-get install maven`)",
        "cta-stack up, cta-tui up (first run)",
        "Only a pom whose versions `cta_stack/jars.lock` does not list needs Maven.",
        "Install Maven, or fill the jar cache (`CTA_JAR_CACHE`) from another machine.",
    ),
    Trouble(
        "could not download <url>: <cause>; check the network or set CTA_MAVEN_URL",
        "make install, cta-stack up, cta-tui up (first run)",
        "Maven Central (or the mirror in `CTA_MAVEN_URL`) is not reachable from this machine.",
        "Check the network; behind a firewall point `CTA_MAVEN_URL` at a reachable Maven mirror.",
    ),
    Trouble(
        "<url> does not match its SHA-256 in jars.lock; a proxy may have altered it",
        "make install, cta-stack up, cta-tui up (first run)",
        "What was downloaded is not the jar the lock lists (nothing is kept).",
        "Fetch again; if it repeats, check the proxy or mirror in `CTA_MAVEN_URL`.",
    ),
    Trouble(
        "could not run Maven (<mvn>): <cause>",
        "cta-stack up, cta-tui up (first run)",
        "The `mvn` found cannot be run.",
        "Fix or reinstall Maven.",
    ),
    Trouble(
        "Maven could not fetch the <name> jars (profile <profile>, exit <code>); check the "
        "network or proxy settings (~/.m2/settings.xml)",
        "cta-stack up, cta-tui up (first run)",
        "Maven Central is not reachable from this machine, or a proxy is needed.",
        "Check the network, or the proxy in ~/.m2/settings.xml; then `cta-stack up` again.",
    ),
    Trouble(
        "formatting the Kafka log directory failed (exit <code>)",
        "cta-stack up, cta-tui up",
        "kafka-storage could not format the broker's data directory (disk full, permissions, "
        "or a directory from another cluster).",
        "`cta-stack logs kafka`; `cta-stack down --purge` starts from empty data.",
    ),
    Trouble(
        "initdb failed (exit <code>)",
        "cta-stack up, cta-tui up",
        "The embedded PostgreSQL could not create its data directory.",
        "`cta-stack logs postgres`; check disk space; `cta-stack down --purge` starts afresh.",
    ),
    Trouble(
        "creating the <user> role and <db> database failed",
        "cta-stack up, cta-tui up",
        "The embedded PostgreSQL started but refused the setup statements.",
        "`cta-stack logs postgres`; `cta-stack down --purge` starts afresh.",
    ),
    Trouble(
        "the stack in <dir> has <n> Kafka broker(s), not <m>: its controller quorum is fixed; "
        "`cta-stack down --purge` deletes it, ...",
        "cta-stack up --brokers",
        "A KRaft cluster's voters are fixed when it is formatted.",
        "Use the recorded number of brokers, or `cta-stack down --purge` first (deletes the data).",
    ),
    Trouble(
        "the stack in <dir> was made without --secure: its Kafka data has no users; "
        "`cta-stack down --purge` deletes it, ...",
        "cta-stack up --secure, cta-tui up --secure",
        "A secured stack's users are set when its Kafka storage is formatted; this one was made plaintext.",
        "`cta-stack down --purge` first (deletes the data), or another CTA_STACK_DIR for the secured stack.",
    ),
    Trouble(
        "<service> failed to start: <reason>",
        "cta-stack up, cta-tui up",
        "A service exited or did not become healthy in time; the last lines of its log follow the error.",
        "Read the log lines shown (`cta-stack logs SERVICE`); fix what they name; `cta-stack up` again.",
    ),
    Trouble(
        "PostgreSQL at <host:port/db> (CTA_POSTGRES_DSN) does not answer: <detail>",
        "cta-stack up, cta-tui up",
        "`CTA_POSTGRES_DSN` names your own PostgreSQL, and it does not answer.",
        "Start that server, or unset CTA_POSTGRES_DSN to use the embedded one.",
    ),
    Trouble(
        "port <port> (<service>) is already in use by <process>; stop that process or move "
        "<service> to another port with its CTA_*_PORT variable",
        "cta-stack up, cta-tui up",
        "Another program (or another stack) listens on the service's port.",
        "Stop it, or move the service: e.g. `CTA_KAFKA_PORT=19092 cta-stack up`.",
    ),
    Trouble(
        "no launcher for <service>",
        "cta-stack up",
        "An internal error: a service in the stack's table has no way to start.",
        "Report it with `cta-stack --version`.",
    ),
    Trouble(
        "<service> needs Java, which was not checked",
        "cta-stack up",
        "An internal error in the stack's start order.",
        "Report it with `cta-stack --version`.",
    ),
    # ------------------------------------------------------------ jobs
    Trouble(
        "the simulation failed: <cause>; run again with -vv and report the log",
        "cta-sim",
        "The simulator's engine process stopped unexpectedly.",
        "Run again with `-vv`; report the output with `cta-sim --version`.",
    ),
    Trouble(
        "Kafka Connect <method> <path>: <status> <message>",
        "cta-jobs connector, cta-jobs setup",
        "The Connect worker refused the connector's configuration.",
        "Read the message; `cta-stack logs connect` has the worker's side.",
    ),
    Trouble(
        "connector <name> FAILED: <traces>",
        "cta-jobs connector, cta-jobs setup",
        "The connector or one of its tasks failed (often: PostgreSQL not reachable from the "
        "Connect worker, or logical replication off).",
        "Check `--db-host-for-connect` (docker-compose: postgres); `cta-stack logs connect`.",
    ),
    Trouble(
        "connector <name> not RUNNING after <n>s (state <state>)",
        "cta-jobs connector, cta-jobs setup",
        "The connector did not start within `--connector-wait` seconds.",
        "Wait longer (`--connector-wait 180`) or look at `cta-stack logs connect`.",
    ),
    Trouble(
        "the Connect worker has neither <debezium class> nor <jdbc class> (or: the Connect worker has no <class>)",
        "cta-jobs connector, cta-jobs setup",
        "The Connect worker lacks the connector plugin asked for (`--connector`).",
        "Use `--connector auto`, or install the plugin in the worker.",
    ),
    Trouble(
        "ksqlDB <statement>: HTTP <status> <body> (or: ksqlDB refused <statement>: <message>)",
        "cta-jobs ksql, cta-jobs setup",
        "ksqlDB rejected a statement.",
        "Read the message; `cta-jobs ksql --drop` then `cta-jobs ksql` recreates the objects.",
    ),
    Trouble(
        "ksqlDB refused to create <object>: <message>",
        "cta-jobs ksql, cta-jobs setup",
        "An object of the same name exists with another definition.",
        "`cta-jobs ksql --drop`, then `cta-jobs ksql`.",
    ),
    Trouble(
        "ksqlDB query for <table> is in ERROR state (or: not RUNNING after <n>s)",
        "cta-jobs ksql, cta-jobs setup",
        "The persistent query behind TURNSTILE_SUMMARY failed or is slow to start.",
        "Look at ksqlDB's log; `cta-jobs ksql --drop` then `cta-jobs ksql`.",
    ),
    # ------------------------------------------------------------ SSH
    Trouble(
        "cannot listen on <host>:<port>: <cause>; choose another address with --ssh",
        "cta-tui serve",
        "The address is taken or not this machine's.",
        "`cta-tui serve --ssh 127.0.0.1:2223`.",
    ),
    Trouble(
        "cannot listen on <host>:<port> for browsers: <cause>; choose another address with --web",
        "cta-tui serve --web",
        "The address is taken or not this machine's.",
        "`cta-tui serve --web 127.0.0.1:8001`.",
    ),
    Trouble(
        "host key <path> is readable by others (mode <mode>); run `chmod 600 <path>`",
        "cta-tui serve",
        "A private key must be readable by its owner only.",
        "`chmod 600` the file.",
    ),
    Trouble(
        "cannot read the host key <path>: <cause>",
        "cta-tui serve",
        "The host key file is damaged or not a key.",
        "Delete it (a new one is generated) or point `--host-key` at a good one.",
    ),
    Trouble(
        "cannot read the <authorized keys|control keys> file <path>: <cause>",
        "cta-tui serve",
        "The keys file is missing or not readable.",
        "Check `--authorized-keys` / `--control-keys`.",
    ),
    Trouble(
        "<authorized keys|control keys> file <path>: <parse error>",
        "cta-tui serve",
        "A line of the keys file is not an OpenSSH public key.",
        "Fix that line (the message names it).",
    ),
    Trouble(
        "control keys file <path> does not exist",
        "cta-tui serve --control-keys",
        "`--control-keys` names a missing file.",
        "Create it or leave the flag out.",
    ),
    Trouble(
        "no public keys in <file>: nobody could log in (see --authorized-keys ...)",
        "cta-tui serve",
        "Without a key nobody can log in.",
        "Add your public key (`~/.ssh/id_ed25519.pub`) to the authorized keys file.",
    ),
    # ------------------------------------------------------------ every command
    Trouble(
        "no such option: <flag>; see 'cta-X --help' (or: invalid value for '<flag>': ..., "
        "missing argument ...)",
        "every command (exit 2)",
        "A flag or value the command does not take.",
        "`cta-X --help` (every subcommand has its own) or docs/cli.md.",
    ),
    Trouble(
        "interrupted",
        "every command (exit 130)",
        "Ctrl+C before the command finished its work.",
        "Run it again; what had started keeps running (`cta-stack down` stops the stack).",
    ),
)


def find(message: str) -> Trouble | None:
    """The row whose message this is."""
    return next((t for t in TROUBLES if t.pattern.match(message)), None)


def with_fix(message: str) -> str:
    """``<what>; <what to do>``: the message as it is when it says what to do, else with
    the table's fix appended."""
    if "; " in message:
        return message
    trouble = find(message)
    return f"{message}; {trouble.fix[:1].lower()}{trouble.fix[1:]}" if trouble else message
