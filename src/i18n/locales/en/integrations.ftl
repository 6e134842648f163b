integrations-intro = Connect this portal to the other systems you work in.
integrations-psa = PSA sync
integrations-psa-blurb = Tickets, comments and statuses flow both ways with your PSA; companies and contacts are imported from it.
integrations-legal = Legal document push
integrations-legal-blurb = Send signed agreements and policies to your document system.
integrations-identity = Identity
integrations-identity-blurb = Single sign-on and user provisioning from your identity provider.
