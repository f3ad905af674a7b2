from yarnlab.cli import main

raise SystemExit(main())
