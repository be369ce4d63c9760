package io.vmsched.schedule;

/**
 * The states of a schedule slot, as the {@code int} stored in its state field, and who may move a
 * slot between them.
 * <pre>
 *  state            owner while in it      may move it                         to
 *  ---------------  ---------------------  ----------------------------------  -------------------------------
 *  FREE             host agent             agent (insert)                      RUNNABLE, SUSPENDED, MIGRATING_IN
 *  RUNNABLE         nobody (shared)        worker CAS (claim)                  RUNNING
 *                                          agent CAS (delete/suspend/migrate)  FREE, SUSPENDED, MIGRATING_OUT
 *  RUNNING          the claiming worker    that worker (release)               RUNNABLE, or the slot's pending
 *                                                                              state if the agent requested one
 *                                          that worker (guest failed)          SUSPENDED (or the pending state)
 *  SUSPENDED        host agent             agent                               RUNNABLE, MIGRATING_OUT, FREE
 *  MIGRATING_OUT    host agent             agent (abort / commit)              RUNNABLE, SUSPENDED, FREE
 *  MIGRATING_IN     host agent             agent (activate / abort)            RUNNABLE, SUSPENDED, FREE
 *  DELETED          host agent             agent (reclaim)                     FREE
 * </pre>
 * The agent never writes the state of a RUNNING slot: it writes the slot's <em>pending</em> field
 * (SUSPENDED, MIGRATING_OUT or DELETED) and the worker that owns the slot applies it when the slice
 * ends, or the next claimer applies it without running the guest. Only RUNNABLE is dispatched, so
 * a slot in any other state is never run.
 */
public final class EntryState
{
    /** No entry: the slot may be inserted into by the host agent. */
    public static final int FREE = 0;
    /** An entry waiting for a worker. */
    public static final int RUNNABLE = 1;
    /** An entry a worker is running a slice of. */
    public static final int RUNNING = 2;
    /** An entry that stays in the schedule but is not dispatched. */
    public static final int SUSPENDED = 3;
    /** An entry stopped for a migration away from this host; not dispatched. */
    public static final int MIGRATING_OUT = 4;
    /** An entry inserted for a migration to this host, not yet activated; not dispatched. */
    public static final int MIGRATING_IN = 5;
    /** An entry deleted while it was running: its slice has ended and the agent may reclaim the slot. */
    public static final int DELETED = 6;

    /** Value of the pending field when the agent has requested nothing. */
    public static final int NONE = 0;

    private static final String[] NAMES =
        { "FREE", "RUNNABLE", "RUNNING", "SUSPENDED", "MIGRATING_OUT", "MIGRATING_IN", "DELETED" };

    private EntryState()
    {
    }

    /**
     * Name of a state value, for logs and tools.
     *
     * @param state the state value.
     * @return its name, or {@code UNKNOWN(n)} for a value outside the table.
     */
    public static String name(final int state)
    {
        return state >= 0 && state < NAMES.length ? NAMES[state] : "UNKNOWN(" + state + ")";
    }

    /**
     * Is the value one of the states above?
     *
     * @param state the state value.
     * @return true if it names a state.
     */
    public static boolean isValid(final int state)
    {
        return state >= FREE && state <= DELETED;
    }
}
