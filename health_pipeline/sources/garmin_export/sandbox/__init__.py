"""The sandbox's Garmin export: writes an "Export Your Data" archive of the sandbox person (test tooling)."""
