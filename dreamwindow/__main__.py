from dreamwindow.cli import main

raise SystemExit(main())
