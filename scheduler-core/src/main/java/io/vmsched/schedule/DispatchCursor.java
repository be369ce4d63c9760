package io.vmsched.schedule;

/**
 * A worker's position on the ring: the batch of slot positions it took from the shared dispatch
 * cursor and has not yet offered.
 * <p>
 * Workers take positions in batches so that two workers walk disjoint stretches of the ring rather
 * than chasing each other over the same cache lines; every position of every turn is handed to
 * exactly one worker, which is what gives each entry one offer per turn.
 * <p>
 * <b>Note:</b> Not threadsafe: one cursor per worker thread.
 */
public final class DispatchCursor
{
    long position;
    long limit;
    int turn;

    /**
     * The turn of the ring the cursor's current batch belongs to.
     *
     * @return the turn, counted from the schedule's creation (wraps at 2^31).
     */
    public int turn()
    {
        return turn;
    }

}
