package io.vmsched.vm;

/** Where a live migration is, as a {@link VmDriver} reports it in a {@link MigrationStatus}. */
public enum MigrationState
{
    /** No migration was started on this VM (or, on a target, none has arrived yet). */
    NONE,
    /** The migration is being set up: the connection to the target is being made. */
    SETUP,
    /** Memory is being copied, or the last pass runs with the VM paused (the downtime). */
    ACTIVE,
    /** The target has the VM: on the source it is paused for good ({@link VmState.Kind#POSTMIGRATE}). */
    COMPLETED,
    /** The migration failed (the error says why); the source still has the VM. */
    FAILED,
    /** The migration was cancelled; the source still has the VM. */
    CANCELLED;

    /** @return true if the migration is over: {@link #COMPLETED}, {@link #FAILED} or {@link #CANCELLED}. */
    public boolean isFinal()
    {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
}
