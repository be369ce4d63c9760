package io.vmsched.bench;

import io.vmsched.placement.Admission;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.Placement;
import io.vmsched.placement.Rule;
import io.vmsched.placement.Service;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Admission placement ({@link Admission#choose}, what {@code Cluster.admit(service, ...)} runs) among
 * 1,000 hosts, each with 20 VMs, with 100 rules in force: the new VM's service (50 VMs placed, one per
 * host) under a hard anti-affinity rule and a soft on-label rule, and 98 other rules over other VMs
 * (anti-affinity pairs and on-label rules). In the same run, {@code admitNoRules}: the same choice with
 * no rule for the VM (load and VM count only), the floor. Target: at most 50 µs with the rules.
 * <p>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar PlacementBenchmark -prof gc}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PlacementBenchmark
{
    /** 1,000 hosts, 20,000 VMs, 100 rules. */
    @State(Scope.Thread)
    public static class Hosts implements Admission.Hosts
    {
        static final int HOSTS = 1_000;
        static final int VMS_PER_HOST = 20;
        static final long NEW_VM = 1_000_000;
        final double[] loads = new double[HOSTS];
        final int[] hostOfVm = new int[HOSTS * VMS_PER_HOST];
        final Constraints.Locator where = vm -> vm < hostOfVm.length ? hostOfVm[(int)vm] : -1;
        Constraints constraints;
        int[] serviceRules;
        final int[] none = new int[0];
        final Admission admission = new Admission();

        @Setup(Level.Trial)
        public void setup()
        {
            final SplittableRandom random = new SplittableRandom(11);
            final Placement placement = new Placement();
            for (int h = 0; h < HOSTS; h++)
            {
                loads[h] = 0.3 + 0.5 * random.nextDouble();
                placement.hostLabels(h, h % 3 == 0 ? Set.of("ssd") : Set.of());
            }
            for (int vm = 0; vm < hostOfVm.length; vm++)
            {
                hostOfVm[vm] = vm / VMS_PER_HOST;
            }
            placement.defineService(new Service("web", 51, 40));
            final long[] web = new long[50];
            for (int i = 0; i < web.length; i++)
            {
                web[i] = (long)i * VMS_PER_HOST * 3; // one on every third host from 0
            }
            placement.join("web", web);
            placement.addRule(Rule.ofService("web-spread", Rule.Kind.ANTI_AFFINITY, true, "web", null));
            placement.addRule(Rule.ofService("web-ssd", Rule.Kind.ON_LABEL, false, "web", "ssd"));
            for (int r = 0; r < 98; r++)
            {
                final long vm = 1 + r * 7L;
                if (r % 2 == 0)
                {
                    placement.addRule(Rule.antiAffinity("pair-" + r, true, vm, vm + 1));
                }
                else
                {
                    placement.addRule(Rule.hostLabel("ssd-" + r, Rule.Kind.ON_LABEL, true, "ssd", vm));
                }
            }
            constraints = placement.constraints();
            serviceRules = constraints.rulesOfService("web");
        }

        @Override
        public int hosts()
        {
            return HOSTS;
        }

        @Override
        public String room(final int host)
        {
            return null;
        }

        @Override
        public double load(final int host)
        {
            return loads[host];
        }

        @Override
        public int vms(final int host)
        {
            return VMS_PER_HOST;
        }
    }

    @Benchmark
    public int admitWithRules(final Hosts hosts)
    {
        return hosts.admission.choose(hosts.constraints, hosts.serviceRules, Hosts.NEW_VM, hosts.where, hosts);
    }

    @Benchmark
    public int admitNoRules(final Hosts hosts)
    {
        return hosts.admission.choose(hosts.constraints, hosts.none, Hosts.NEW_VM, hosts.where, hosts);
    }
}
