package io.vmsched.dispatch;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.locks.LockSupport;

/**
 * How vmsched's threads wait when they have nothing to do: one place for every idle strategy (the
 * dispatcher's workers, the host agents, the embedded media drivers, the registry's agents and clients).
 * They spin briefly, yield, then park for longer and longer up to {@link #MAX_PARK_NS}: an idle host costs
 * little CPU, and a message that arrives while a thread is parked waits up to that long at each thread it
 * crosses (a handoff between processes crosses several: docs/performance.md). The ceiling is the system
 * property {@value #MAX_PARK_PROPERTY}, in µs (default 1,000): lower trades idle CPU for latency.
 * <p>
 * <b>Heat.</b> While this process awaits a reply (a host with a handoff in flight calls {@link #heat} on each
 * duty cycle, a registry member on any work: {@link #heating()}), the strategies of the threads on the message
 * path ({@link #messages()}, {@link #agent()}, {@link #heating()}) park
 * at most {@link #HOT_PARK_NS} instead (property {@value #HOT_PARK_PROPERTY}, µs, default 50), and those parked
 * longer are woken as the process turns hot: the hops of a handoff do not wait for 1 ms parks, and an idle host
 * keeps them. Given a window ({@link #HOT_YIELD_NS}, property {@value #HOT_YIELD_PROPERTY}, µs, default 0: off),
 * a hot thread yields instead of parking for that long after its last work and after the process turned hot: a
 * park of 50 µs ends 80 µs or more later on a virtual machine, and a yield does not wait for a timer. Off by
 * default: on a host whose guests keep the cores busy a yielding thread waits its turn behind them, where a woken
 * one preempts them (docs/performance.md has both). The workers' strategy ({@link #work()}) is never heated: they
 * run guests, not messages. A media driver's thread, the first of a process to see a message from another, parks
 * at most {@link #RECEIVE_PARK_NS} even when cold ({@link #receiving()}; property {@value #RECEIVE_PARK_PROPERTY},
 * µs, default 100): what a message waits before its process turns hot, for a few hundredths of a core.
 * <p>
 * <b>Timer slack.</b> Linux lets a park end up to a thread's timer slack late (50 µs by default) so that
 * timers can be grouped; a message that crosses five parked threads pays it five times. Each thread on the
 * message path sets its own slack to {@link #TIMER_SLACK_NS} when it first parks (property
 * {@value #TIMER_SLACK_PROPERTY}, ns, default 1,000; 0 leaves the slack the thread has: the OS's, or one the
 * process was started with), which needs no privilege
 * (docs/performance.md has what it changes). Workers and hypervisor drivers' threads keep the process's
 * ({@link #resetTimerSlack}: a thread inherits its starter's).
 * <p>
 * Threadsafe; each call makes a new strategy, which belongs to one thread. {@link #heat} may be called from any
 * thread.
 */
public final class Idle
{
    /** The system property giving {@link #MAX_PARK_NS} in µs. */
    public static final String MAX_PARK_PROPERTY = "vmsched.idle.max-park-us";
    /** The longest park of an idle thread, ns. */
    public static final long MAX_PARK_NS = maxPark(MAX_PARK_PROPERTY, 1_000);
    /** The system property giving {@link #HOT_PARK_NS} in µs. */
    public static final String HOT_PARK_PROPERTY = "vmsched.idle.hot-park-us";
    /** The longest park of a thread on the message path while the process is hot, ns (at most {@link #MAX_PARK_NS}). */
    public static final long HOT_PARK_NS = Math.min(MAX_PARK_NS, maxPark(HOT_PARK_PROPERTY, 50));

    /** The system property giving {@link #HOT_YIELD_NS} in µs. */
    public static final String HOT_YIELD_PROPERTY = "vmsched.idle.hot-yield-us";
    /** How long a heated strategy's thread yields instead of parking, the process hot, after its last work or the
     * process turning hot, ns; 0: it parks. */
    public static final long HOT_YIELD_NS = property(HOT_YIELD_PROPERTY, 0, 0, 1_000_000, "µs") * 1_000L;

    /** The system property giving {@link #RECEIVE_PARK_NS} in µs. */
    public static final String RECEIVE_PARK_PROPERTY = "vmsched.idle.receive-park-us";
    /** The longest park of a media driver's thread ({@link #receiving()}), ns (at most {@link #MAX_PARK_NS}). */
    public static final long RECEIVE_PARK_NS = Math.min(MAX_PARK_NS, maxPark(RECEIVE_PARK_PROPERTY, 100));

    // invariant: a heated strategy's thread is in {@link #heated} from its first park until it ends (pruned when dead)
    /** The system property giving {@link #TIMER_SLACK_NS} in ns. */
    public static final String TIMER_SLACK_PROPERTY = "vmsched.idle.timer-slack-ns";
    /** The timer slack each thread on the message path sets on itself, ns; 0: the OS's is left. */
    public static final long TIMER_SLACK_NS = property(TIMER_SLACK_PROPERTY, 1_000, 0, 1_000_000_000L, "ns");
    /** Linux's default timer slack for a thread that is not real-time, ns. */
    private static final long OS_TIMER_SLACK_NS = 50_000;
    /** The slack the loading thread had (no thread here has set its own yet), ns; -1 where it cannot be read. */
    private static final long STARTING_TIMER_SLACK_NS = LinuxThread.timerSlack();

    /** Written under the class's lock, a new array each time: {@link #heat} reads it without one, allocating nothing. */
    private static volatile Thread[] heated = new Thread[0];
    private static volatile long hotUntilNs = System.nanoTime();
    /** When the process last turned hot (from cold). */
    private static volatile long turnedHotNs = System.nanoTime() - Long.MAX_VALUE / 4;
    /** How long the work of a {@link #heating()} strategy's thread keeps the process hot. */
    private static final long WORK_HEAT_NS = 2_000_000L;

    private Idle()
    {
    }

    /** @return a backoff for a thread that reads messages (drivers, clients): short spins, then parks; heated. */
    public static IdleStrategy messages()
    {
        return new Heated(10, 20, 1_000, MAX_PARK_NS, false, HOT_YIELD_NS);
    }

    /** @return a backoff for a host's agent: longer spins, then parks; heated. */
    public static IdleStrategy agent()
    {
        return new Heated(100, 10, 1_000, MAX_PARK_NS, false, HOT_YIELD_NS);
    }

    /**
     * @return as {@link #agent()}, but parks at most {@link #RECEIVE_PARK_NS} even when cold: for an agent that also
     *         runs its transport's media driver (it is the first thread of its process to see a message), as a
     *         node's does. Its work does not heat the process.
     */
    public static IdleStrategy polling()
    {
        return new Heated(100, 10, 1_000, RECEIVE_PARK_NS, false, HOT_YIELD_NS);
    }

    /**
     * @return as {@link #messages()}, and whatever work its thread does makes the process hot for 2 ms: for a
     * process whose every message someone awaits (the registry's members: a node waits for each answer), so that
     * the thread that received one wakes the others it goes through.
     */
    public static IdleStrategy heating()
    {
        return new Heated(10, 20, 1_000, MAX_PARK_NS, true, HOT_YIELD_NS);
    }

    /**
     * @return as {@link #heating()}, for the thread that first sees a message from another process (a media
     * driver's): it parks at most {@link #RECEIVE_PARK_NS} even when cold, so a message waits that long at most
     * before the process turns hot.
     */
    public static IdleStrategy receiving()
    {
        return new Heated(10, 20, 1_000, RECEIVE_PARK_NS, true, HOT_YIELD_NS);
    }

    /** @return a backoff for a thread that runs work as it comes (workers): longer spins, then parks; never heated. */
    public static BackoffIdleStrategy work()
    {
        return new BackoffIdleStrategy(100, 10, 1_000, MAX_PARK_NS);
    }

    /**
     * This process awaits a reply for the next {@code forNs}: until then heated strategies park at most
     * {@link #HOT_PARK_NS}; if it was not hot, their threads are woken now. Allocates nothing. Any thread.
     *
     * @param forNs how long from now, ns.
     */
    public static void heat(final long forNs)
    {
        final long now = System.nanoTime();
        final long was = hotUntilNs;
        if (now + forNs - was > forNs >> 2) // renewed once a quarter of the window passed: few volatile writes
        {
            hotUntilNs = now + forNs; // a race may keep the shorter of two windows: the next cycle renews it
            if (was - now <= 0)
            {
                turnedHotNs = now;
                for (final Thread thread : heated)
                {
                    LockSupport.unpark(thread); // parked up to MAX_PARK_NS: wait as a hot thread does now
                }
            }
        }
    }

    /**
     * Set the calling thread's timer slack back to the process's. A thread inherits the slack of the thread that
     * starts it, and so does a process: a thread a message-path thread started that is not on the message path
     * itself (a worker, a hypervisor driver's thread, and the processes those start) calls it first. Does
     * nothing where the slack is left alone ({@link #TIMER_SLACK_NS} 0) or cannot be set. Allocates only when it
     * sets it.
     */
    public static void resetTimerSlack()
    {
        if (TIMER_SLACK_NS <= 0 || STARTING_TIMER_SLACK_NS <= 0)
        {
            return;
        }
        // a process started by a message-path thread of another starts with its slack: the OS's then
        final long slack = STARTING_TIMER_SLACK_NS == TIMER_SLACK_NS ? OS_TIMER_SLACK_NS : STARTING_TIMER_SLACK_NS;
        if (LinuxThread.timerSlack() != slack)
        {
            LinuxThread.timerSlack(slack);
        }
    }

    /** @return whether the process is hot (see {@link #heat}). Any thread. */
    public static boolean hot()
    {
        return hotUntilNs - System.nanoTime() > 0;
    }

    private static void register(final Thread thread)
    {
        synchronized (Idle.class)
        {
            final java.util.List<Thread> live = new java.util.ArrayList<>(heated.length + 1);
            for (final Thread t : heated)
            {
                if (t.isAlive() && t != thread)
                {
                    live.add(t);
                }
            }
            live.add(thread);
            heated = live.toArray(new Thread[0]);
        }
        if (TIMER_SLACK_NS > 0)
        {
            LinuxThread.timerSlack(TIMER_SLACK_NS); // best effort: elsewhere parks keep the OS's slack
        }
    }

    private static long maxPark(final String property, final long defaultUs)
    {
        return property(property, defaultUs, 1, 1_000_000, "µs") * 1_000L;
    }

    /** @return the whole number a system property gives in [min, max], or the default; a bad one in one line. */
    private static long property(final String property, final long defaultValue, final long min, final long max,
        final String unit)
    {
        final String value = System.getProperty(property);
        if (value == null)
        {
            return defaultValue;
        }
        try
        {
            final long parsed = Long.parseLong(value.trim());
            if (parsed >= min && parsed <= max)
            {
                return parsed;
            }
        }
        catch (final NumberFormatException ex)
        {
            // said below
        }
        throw new IllegalArgumentException("-D" + property + " must be whole " + unit + " from " + min + " to " + max +
            ", got '" + value + "'");
    }

    /**
     * A backoff (spins, yields, then parks doubling from the least to the longest) whose longest park is
     * {@link #HOT_PARK_NS} while the process is hot, and which, hot, yields instead for {@code hotYieldNs} after its
     * last work and after the process turned hot. Belongs to one thread.
     */
    static final class Heated implements IdleStrategy
    {
        private static final int NOT_IDLE = 0;
        private static final int SPINNING = 1;
        private static final int YIELDING = 2;
        private static final int PARKING = 3;

        private final long maxSpins;
        private final long maxYields;
        private final long minParkNs;
        private final long maxParkNs;
        private int state = NOT_IDLE;
        private long spins;
        private long yields;
        private long parkNs;
        private final boolean heats;
        private final long hotYieldNs;
        private long idleSinceNs;
        private Thread owner;

        Heated(final long maxSpins, final long maxYields, final long minParkNs, final long maxParkNs,
            final boolean heats, final long hotYieldNs)
        {
            this.heats = heats;
            this.hotYieldNs = hotYieldNs;
            this.maxSpins = maxSpins;
            this.maxYields = maxYields;
            this.minParkNs = minParkNs;
            this.maxParkNs = maxParkNs;
        }

        @Override
        public void idle(final int workCount)
        {
            if (workCount > 0)
            {
                reset();
                if (heats)
                {
                    heat(WORK_HEAT_NS);
                }
            }
            else
            {
                idle();
            }
        }

        @Override
        public void idle()
        {
            switch (state)
            {
                case NOT_IDLE:
                    state = SPINNING;
                    spins = 1;
                    if (hotYieldNs > 0)
                    {
                        idleSinceNs = System.nanoTime();
                    }
                    break;
                case SPINNING:
                    Thread.onSpinWait();
                    if (++spins > maxSpins)
                    {
                        state = YIELDING;
                        yields = 0;
                    }
                    break;
                case YIELDING:
                    if (++yields > maxYields)
                    {
                        state = PARKING;
                        parkNs = minParkNs;
                    }
                    else
                    {
                        Thread.yield();
                    }
                    break;
                default:
                    final boolean hot = hot();
                    if (hot && hotYieldNs > 0)
                    {
                        // the next step of what someone awaits comes soon after this thread's last, or after the
                        // heat woke it: meanwhile no timer's lateness
                        final long now = System.nanoTime();
                        if (now - idleSinceNs < hotYieldNs || now - turnedHotNs < hotYieldNs)
                        {
                            Thread.yield();
                            break;
                        }
                    }
                    final Thread current = Thread.currentThread();
                    if (owner != current)
                    {
                        owner = current; // once per thread: the strategy belongs to one
                        register(current); // and sets its timer slack
                    }
                    final long ceiling = hot ? Math.min(HOT_PARK_NS, maxParkNs) : maxParkNs;
                    final long park = Math.min(parkNs, ceiling);
                    LockSupport.parkNanos(park);
                    parkNs = Math.min(park << 1, maxParkNs);
                    break;
            }
        }

        @Override
        public void reset()
        {
            state = NOT_IDLE;
            spins = 0;
            yields = 0;
            parkNs = minParkNs;
        }

        @Override
        public String alias()
        {
            return "vmsched-heated-backoff";
        }
    }
}
