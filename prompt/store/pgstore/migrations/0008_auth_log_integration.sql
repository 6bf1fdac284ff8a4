-- The integration that decided the device's trust (mobile or managed);
-- empty where none did: logins without a device check, and entries made
-- before this step.
ALTER TABLE auth_log ADD COLUMN integration text NOT NULL DEFAULT '';
