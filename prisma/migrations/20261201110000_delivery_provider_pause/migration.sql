-- AlterTable
ALTER TABLE "provider_states" ADD COLUMN     "paused_until" TIMESTAMPTZ(3);
