package io.vmsched.cluster;

/**
 * Fault injection for tests: asked at each step of the handoff on both sides, it can make the step
 * fail, lose a message or hold it back. The runtime's default injects nothing.
 * <p>
 * Threadsafe: called on the host agents' threads.
 */
@FunctionalInterface
public interface Faults
{
    /** The steps at which a fault can strike. */
    enum Point
    {
        /** Source, after MIGRATION_INTENT is journaled. */
        SOURCE_AFTER_INTENT,
        /** Source, after SUSPENDED is journaled (snapshot taken). */
        SOURCE_AFTER_SUSPENDED,
        /** Source, sending the transfer (DROP loses it, DELAY holds it back). */
        SOURCE_SEND_TRANSFER,
        /** Target, a transfer arrives, before RECEIVED. */
        TARGET_ON_TRANSFER,
        /** Target, after RECEIVED is journaled. */
        TARGET_AFTER_RECEIVED,
        /** Target, after the entry is inserted (MIGRATING_IN). */
        TARGET_AFTER_INSERT,
        /** Target, after ACTIVATED is journaled (past the commit point). */
        TARGET_AFTER_ACTIVATED,
        /** Target, sending the ack (DROP loses it, DELAY holds it back). */
        TARGET_SEND_ACK,
        /** Source, an ack arrives, before COMMITTED. */
        SOURCE_ON_ACK
    }

    /** What happens at a step. */
    enum Action
    {
        /** Nothing: the step goes on. */
        PROCEED,
        /** The step throws. */
        THROW,
        /** A send is lost (other steps: as PROCEED). */
        DROP,
        /** A send is delivered only after the handoff timeout (other steps: as PROCEED). */
        DELAY
    }

    /** Injects nothing. */
    Faults NONE = (point, host, migrationId) -> Action.PROCEED;

    /**
     * @param point       the step.
     * @param host        the host taking it.
     * @param migrationId the migration.
     * @return what happens.
     */
    Action at(Point point, int host, long migrationId);

    /** Thrown by a step that a {@link Action#THROW} fault struck. */
    final class InjectedFault extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        /**
         * @param point where.
         */
        public InjectedFault(final Point point)
        {
            super("injected fault at " + point);
        }
    }
}
