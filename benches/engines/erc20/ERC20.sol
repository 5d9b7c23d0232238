// SPDX-License-Identifier: MIT
// The EVM side of the engine comparison: a plain ERC-20 (EIP-20) with the same transfer
// semantics as contracts/examples/token (balances in a mapping, a Transfer event, a revert
// when the balance is short). Compiled with solc-js 0.8.28, optimizer on (200 runs): see
// build.sh; ERC20.bin is the committed creation bytecode.
pragma solidity 0.8.28;

contract ERC20 {
    string public name;
    string public symbol;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, string memory symbol_, uint256 supply) {
        name = name_;
        symbol = symbol_;
        totalSupply = supply;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        uint256 balance = balanceOf[msg.sender];
        require(balance >= amount, "transfer amount exceeds balance");
        unchecked {
            balanceOf[msg.sender] = balance - amount;
        }
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= amount, "transfer amount exceeds allowance");
        uint256 balance = balanceOf[from];
        require(balance >= amount, "transfer amount exceeds balance");
        unchecked {
            allowance[from][msg.sender] = allowed - amount;
            balanceOf[from] = balance - amount;
        }
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
        return true;
    }
}
