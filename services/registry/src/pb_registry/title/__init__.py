"""The registry as the arbiter of title: owners, licences and pledges change only through its commands."""
