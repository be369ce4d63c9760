package io.vmsched.cli;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.guest.PacedBurnerGuest;
import io.vmsched.metrics.CountersFile;
import io.vmsched.metrics.MetricsAgent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code vmsched node}: one real host on this machine, measured through OSHI, journaling like the
 * embedded cluster, publishing its figures to {@code <data>/counters.dat} for {@code vmsched stat};
 * runs until SIGINT or SIGTERM, then shuts down cleanly.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run one host on this machine until SIGINT/SIGTERM; 'vmsched stat' shows its figures.")
final class NodeCommand implements Runnable
{
    /** External VMs' ids start here, apart from the guests' 1..1000. */
    static final long EXTERNAL_IDS = 1_000_000;
    /** QEMU VMs' ids ({@code --qemu}) start here. */
    static final long QEMU_IDS = 2_000_000;
    /** The QEMU driver's run directory under the data directory (where incoming copies' sockets and logs would go). */
    static final String QEMU_RUN_DIR = "qemu";

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.DataDir dataDir = new Mixins.DataDir();

    @Mixin
    final Mixins.MetricsEndpoint metricsEndpoint = new Mixins.MetricsEndpoint();

    @Option(names = "--vm-pid", description = "An external VM: NAME=PID of a running process (repeatable).")
    List<String> vmPids = new ArrayList<>();

    @Option(names = "--qemu", description = "A running QEMU VM to adopt through its QMP socket: NAME=SOCKET (the QEMU " +
        "process serving SOCKET is found in /proc) or NAME=SOCKET@PID (repeatable). With --registry the balancer, a drain " +
        "or a migration moves it to other nodes by live migration (see --qemu-load).")
    List<String> qemus = new ArrayList<>();

    @Option(names = "--guests", defaultValue = "0", description = "In-JVM paced guests to run, 0-1000 (default: ${DEFAULT-VALUE}).")
    int guests;

    @Option(names = "--workers", defaultValue = "1", description = "Dispatcher workers, 1-256 (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--worker-nice", defaultValue = "" + io.vmsched.aeron.node.Node.Context.DEFAULT_WORKER_NICE, description = "The workers' OS nice value, 0-19: above 0 the " +
        "guests yield a core to the node's agent and transport whenever a message comes (Linux; default: ${DEFAULT-VALUE}).")
    int workerNice;

    @Option(names = "--period-ms", defaultValue = "1000", description = "Metrics sample period, ms, >= 100 (default: ${DEFAULT-VALUE}).")
    long periodMs;

    @Option(names = "--registry", description = "Join a cluster across machines: the registry's members, ID=HOST:PORT,... " +
        "(as given to 'vmsched registry'). Without it: a single host.")
    String registry;

    @Option(names = "--name", description = "This node's name, unique in the cluster (with --registry).")
    String name;

    @Option(names = "--bind", description = "HOST:PORT this node listens on for its peers (with --registry; an address, " +
        "never all interfaces).")
    String bind;

    @Option(names = "--secret", description = "The cluster's secret file (with --registry).")
    Path secret;

    @Option(names = "--max-nodes", defaultValue = "1024", description = "Most nodes the cluster may have (default: ${DEFAULT-VALUE}).")
    int maxNodes;

    @Option(names = "--labels", defaultValue = "", description = "This host's labels, which placement rules name, comma-separated (e.g. ssd,rack-a); other words (rack=a) show in the directory only.")
    String labels;

    @Option(names = "--guest-load", defaultValue = "0", description = "With --registry: each guest's programmed CPU " +
        "load in reference cores (0: measured) (default: ${DEFAULT-VALUE}).")
    double guestLoad;

    @Option(names = "--qemu-load", defaultValue = "0", description = "With --registry: the programmed CPU load, in " +
        "reference cores, of each QEMU VM this node holds when it starts (adopted by --qemu, or recovered from its " +
        "journal); the balancer moves VMs by it (0: none, the node does not measure QEMU processes with --registry) " +
        "(default: ${DEFAULT-VALUE}).")
    double qemuLoad;

    @Option(names = "--guest-swing", defaultValue = "0", description = "With --registry and --guest-load: each guest's " +
        "programmed load swings by this fraction of it, as a wave of --swing-period-ms whose phase is the VM's own, " +
        "wherever it runs (0: steady) (default: ${DEFAULT-VALUE}).")
    double guestSwing;

    @Option(names = "--swing-period-ms", defaultValue = "8000", description = "With --guest-swing: the wave's period " +
        "(default: ${DEFAULT-VALUE}).")
    long swingPeriodMs;

    @Option(names = "--balance-period-ms", defaultValue = "1000", description = "With --registry: the balance period " +
        "(default: ${DEFAULT-VALUE}).")
    long balancePeriodMs;

    @Option(names = "--registry-wait-s", defaultValue = "30", description = "With --registry: how long to keep trying " +
        "to reach the registry at the start (default: ${DEFAULT-VALUE}).")
    int registryWaitS;

    @Override
    public void run()
    {
        if (registry != null)
        {
            new ClusterNode(this).run();
            return;
        }
        if (qemuLoad != 0)
        {
            throw new IllegalArgumentException("--qemu-load needs --registry: a single host has no peer to move its " +
                "QEMU VMs to (their processes are measured)");
        }
        Flags.within("--guests", guests, 0, 1000);
        Flags.within("--workers", workers, 1, 256);
        Flags.within("--worker-nice", workerNice, 0, 19);
        Flags.within("--period-ms", periodMs, 100, 3_600_000);
        final Path data = dataDir.checked(); // a file in its place: the same line as the other commands'
        final java.nio.file.Path countersFile = data.resolve(CountersFile.FILE_NAME);
        if (java.nio.file.Files.exists(countersFile) && !java.nio.file.Files.isRegularFile(countersFile))
        {
            // checked before the journal is touched: a refused start changes nothing on disk
            throw new IllegalArgumentException("cannot create " + countersFile + ": something that is not a file is " +
                "in its place; move it aside");
        }
        final List<MetricsAgent.Binding> bindings = new ArrayList<>();
        for (int i = 0; i < vmPids.size(); i++)
        {
            final String spec = vmPids.get(i);
            final int eq = spec.indexOf('=');
            final long pid;
            try
            {
                pid = eq > 0 ? Long.parseLong(spec.substring(eq + 1)) : -1;
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("--vm-pid '" + spec + "': expected NAME=PID with a numeric PID");
            }
            if (eq <= 0 || pid <= 0)
            {
                throw new IllegalArgumentException("--vm-pid '" + spec + "': expected NAME=PID");
            }
            if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
            {
                throw new IllegalArgumentException("--vm-pid '" + spec + "': no running process " + pid);
            }
            final String name = spec.substring(0, eq);
            if (!name.matches("[A-Za-z0-9_.-]{1,64}"))
            {
                throw new IllegalArgumentException("--vm-pid '" + spec + "': a name is 1-64 letters, digits, '_', '.' or '-'");
            }
            bindings.add(new MetricsAgent.Binding(EXTERNAL_IDS + i, name, pid));
        }
        final List<QemuVm> qemuVms = QemuVm.parse(qemus, QEMU_IDS, data.resolve(QEMU_RUN_DIR)); // checked: disk untouched
        qemuVms.forEach(vm -> bindings.add(vm.binding()));

        final PrintWriter out = spec.commandLine().getOut();
        final ClusterConfig config = ClusterConfig.of(1, data);
        config.host.workers = workers;
        config.host.workerNice = workerNice;
        config.host.balancing = false; // one host: no peer to exchange with
        // always: recovery adopts again the QEMU VMs the journal holds
        config.host.vmDriver = h -> new io.vmsched.qemu.QemuVmDriver(data.resolve(QEMU_RUN_DIR));
        final ClusterListener log = new ClusterListener()
        {
            @Override
            public void onError(final int host, final Throwable error)
            {
                System.err.println("vmsched node: " + error.getMessage());
            }
        };
        final Metrics endpoint = metricsEndpoint.start(); // serving before the journal is touched: a taken port changes nothing
        config.listener = endpoint == null ? log : endpoint.listener(log);
        final Cluster cluster;
        try
        {
            cluster = Cluster.start(config);
        }
        catch (final RuntimeException ex)
        {
            if (endpoint != null)
            {
                endpoint.close();
            }
            throw ex;
        }
        final CountersFile counters;
        final MetricsAgent metrics;
        try
        {
            if (endpoint != null)
            {
                endpoint.watch(cluster, 0);
            }
            final Map<Long, Integer> placement = cluster.placement();
            for (int i = 1; i <= guests; i++)
            {
                if (!placement.containsKey((long)i))
                {
                    cluster.admit(0, i, 1, new PacedBurnerGuest(0.02, 0.5, 10_000, i));
                }
            }
            for (final MetricsAgent.Binding binding : bindings)
            {
                if (!placement.containsKey(binding.vmId()) && binding.vmId() < QEMU_IDS)
                {
                    cluster.admitExternal(0, binding.vmId(), binding.name(), binding.pid());
                }
            }
            for (final QemuVm vm : qemuVms)
            {
                if (!placement.containsKey(vm.vmId())) // one the journal holds was adopted again by recovery
                {
                    cluster.adoptVm(0, vm.vmId(), vm.name(), vm.socket(), vm.pid());
                }
            }
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (cluster.host(0).vmCount() < guests + bindings.size()) // admit reserved each id at once
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("admissions did not complete in 10 s");
                }
                LockSupport.parkNanos(1_000_000L);
            }
            counters = CountersFile.create(data, 64 + 5 * bindings.size(), periodMs);
            try
            {
                metrics = new MetricsAgent(cluster, counters, periodMs, bindings,
                    line -> System.err.println("vmsched node: " + line)).start();
            }
            catch (final RuntimeException ex)
            {
                counters.close();
                throw ex;
            }
        }
        catch (final RuntimeException ex)
        {
            cluster.close();
            if (endpoint != null)
            {
                endpoint.close();
            }
            throw ex;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                if (endpoint != null)
                {
                    endpoint.close();
                }
                metrics.close();
                cluster.close();
                out.println("vmsched node: stopped cleanly (agents stopped, journal and counters file closed)");
            }
            catch (final RuntimeException ex)
            {
                out.println("vmsched node: stopping failed: " + ex.getMessage());
            }
            finally
            {
                counters.close();
                out.flush();
                stopped.countDown();
            }
        }, "vmsched-node-shutdown"));
        out.printf("vmsched node: pid %d, %d VMs (%d recovered from the journal), %d external%s; journal %s; counters %s; " +
            "%sstop with Ctrl-C or SIGTERM%n", ProcessHandle.current().pid(), cluster.placement().size(),
            cluster.recoveredVms(), bindings.size(), qemuVms.isEmpty() ? "" : " (" + qemuVms.size() + " QEMU)",
            cluster.journalDirs().get(0), counters.path(),
            endpoint == null ? "" : "metrics " + endpoint.url() + "; ");
        out.flush();
        try
        {
            stopped.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
