import RaftCtlKit

RaftctlMain.main()
