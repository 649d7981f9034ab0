"""Tests of the kitaru-azure plugin (AzureML stacks, Azure Blob artifact stores, Azurite)."""
